"""Fee documents: the fees, lump sums and interest of a notice as one posted
customer invoice, and every shortcut around Odoo's invoice machinery that
keeps booking them fast, in this module only.

``book_documents`` books a batch by the first of three ways that covers
each document:

1. ``fee_documents_sql``: the rows Odoo's create + action_post would give,
   inserted by one INSERT per table (that module lists its shortcuts and
   ``fee_documents_sql.covers`` what it accepts); then ``after_insert``:
   followers, balance check and customer ranks as ``post_batch`` does them;
2. the ORM shortcuts below;
3. Odoo's plain ``create`` + ``action_post``.

The ORM shortcuts:

* the documents are created with their complete journal items
  (``_with_journal_items``), so Odoo's invoice line sync is skipped; where
  no analytic distribution model exists, the search for one per line is
  skipped too;
* they are posted in one batch (``post_batch``): the customers follow
  their documents in one insert, the journal's next number is looked up once
  per journal, date and kind (``account.move._get_next_sequence_format``),
  the balance is checked once and the customer ranks are raised in one
  update.

They apply to the configurations ``shortcuts_cover`` accepts, each proven
equal to Odoo's own ``create`` + ``action_post`` by the tests
(``TestFeeDocumentShortcuts``): company currency, with or without a fiscal
position, analytic distribution models, in any company. Anything else (a
foreign currency, cash rounding) is booked by Odoo's plain ``create`` and
``action_post``.
"""

from collections import defaultdict

from odoo.exceptions import UserError
from odoo.fields import Command

from ..domain import accounts as charge_accounts
from ..domain import planning
from . import fee_documents_sql


def create_fee_moves(run, notices, notice_plans):
    """Book fees, lump sums and interest as one posted invoice per notice."""
    env = run.env
    company = run.company_id
    journal = company._dunning_journal()
    product = company.dunning_product_id
    # Each charge on the income account of its kind (no VAT): fees, lump
    # sums and default interest.
    accounts = company._dunning_charge_accounts()
    vals_list = []
    for notice, plan in zip(notices, notice_plans, strict=True):
        if plan.charges <= 0:
            continue
        lang = notice.partner_id.lang or env.lang
        names = {line.move_id.id: line.move_id.name for line in notice.line_ids}
        invoice_lines = []
        if plan.fee_amount:
            invoice_lines.append(
                _fee_line(
                    env._(
                        "Dunning fee, %(level)s, notice %(notice)s",
                        level=notice.level_id.with_context(lang=lang).name,
                        notice=notice.name,
                    ),
                    plan.fee_amount,
                    product,
                    accounts[charge_accounts.FEE],
                )
            )
        for line in plan.lines:
            if line.lump_sum:
                invoice_lines.append(
                    _fee_line(
                        env._(
                            "Lump sum for late payment (§ 288 (5) BGB), invoice %s",
                            names[line.move_id],
                        ),
                        line.lump_sum,
                        product,
                        accounts[charge_accounts.LUMP_SUM],
                    )
                )
            if line.return_charge:
                invoice_lines.append(
                    _fee_line(
                        env._("Returned direct debit charge, invoice %s", names[line.move_id]),
                        line.return_charge,
                        product,
                        # a cost passed on, like the dunning fee
                        accounts[charge_accounts.FEE],
                    )
                )
            if line.interest_amount:
                invoice_lines.append(
                    _fee_line(
                        env._(
                            "Default interest, invoice %(invoice)s, %(start)s to "
                            "%(end)s: %(detail)s",
                            invoice=names[line.move_id],
                            start=line.interest_from.strftime("%d.%m.%Y"),
                            end=line.interest_to.strftime("%d.%m.%Y"),
                            detail=planning.describe_instalments(line.instalments, lang or "de"),
                        ),
                        line.interest_amount,
                        product,
                        accounts[charge_accounts.INTEREST],
                    )
                )
        vals = {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": notice.partner_id.id,
            "currency_id": notice.currency_id.id,
            "invoice_date": notice.date,
            "date": notice.date,
            "invoice_payment_term_id": False,
            "invoice_date_due": notice.deadline_date,
            "invoice_origin": notice.name,
            "ref": notice.name,
            "dunning_fee_notice_id": notice.id,
            "invoice_line_ids": invoice_lines,
        }
        vals_list.append(vals)
    return book_documents(env, vals_list)


def shortcuts_cover(env, vals):
    """Whether the shortcuts book this document exactly as Odoo would (see
    the module's description); otherwise it goes through Odoo's own
    machinery."""
    company = env["res.company"].browse(vals["company_id"])
    return (
        vals.get("currency_id") == company.currency_id.id
        and not vals.get("invoice_cash_rounding_id")
        and not vals.get("invoice_payment_term_id")
    )


def book_documents(env, vals_list, shortcuts=True):
    """Create and post customer invoices of ``invoice_line_ids`` vals: by
    the INSERTs of ``fee_documents_sql`` where they cover the document, else
    with the ORM shortcuts where those cover it, else by Odoo's plain
    ``create`` + ``action_post``. Returns the posted moves in the given
    order."""
    Move = env["account.move"].with_context(tracking_disable=True, mail_create_nolog=True)
    fast = [i for i, vals in enumerate(vals_list) if shortcuts and shortcuts_cover(env, vals)]
    plain = [i for i in range(len(vals_list)) if i not in set(fast)]
    by_index = {}
    inserted = []
    if fast and fee_documents_sql.batch_covered(env):
        covered = fee_documents_sql.covered(env, [vals_list[i] for i in fast])
        inserted = [i for i, ok in zip(fast, covered, strict=True) if ok]
    if inserted:
        moves = fee_documents_sql.insert(env, [vals_list[i] for i in inserted])
        if moves is None:
            # The INSERT failed (not on a number taken): the ORM books them.
            inserted = []
        else:
            after_insert(moves)
            by_index.update(zip(inserted, moves, strict=True))
    fast = [i for i in fast if i not in set(inserted)]
    if fast:
        # Without any analytic distribution model Odoo's search for one per
        # line finds nothing: say so instead of searching per line.
        no_analytic = (
            not env["account.analytic.distribution.model"].sudo().search_count([], limit=1)
        )
        # The journal items are complete: Odoo's invoice line sync, which
        # would derive the same receivable line, is not needed.
        moves = Move.with_context(skip_invoice_sync=True).create(
            [_with_journal_items(env, vals_list[i], no_analytic) for i in fast]
        )
        post_batch(moves)
        by_index.update(zip(fast, moves, strict=True))
    if plain:
        moves = Move.create([vals_list[i] for i in plain])
        moves.action_post()
        by_index.update(zip(plain, moves, strict=True))
    return Move.browse([by_index[i].id for i in range(len(vals_list))])


def _with_journal_items(env, vals, no_analytic):
    """The vals with ``line_ids`` instead of ``invoice_line_ids``."""
    vals = dict(vals)
    lines = vals.pop("invoice_line_ids")
    if no_analytic:
        lines = [(c, i, dict(line, analytic_distribution=False)) for c, i, line in lines]
    currency = env["res.currency"].browse(vals["currency_id"])
    vals["line_ids"] = _fee_journal_items(lines, currency, vals["invoice_date_due"])
    return vals


def _fee_journal_items(invoice_lines, currency, date_due):
    """The journal items of a fee invoice in company currency, as Odoo's
    invoice sync would complete them: the income lines with their
    amounts (no taxes) and the receivable line of the total, due on the
    notice's deadline (no payment term)."""
    items = []
    total = 0.0
    for command, _id, line_vals in invoice_lines:
        amount = currency.round(line_vals["quantity"] * line_vals["price_unit"])
        total += amount
        items.append(
            (
                command,
                _id,
                dict(
                    line_vals,
                    display_type="product",
                    amount_currency=-amount,
                    balance=-amount,
                ),
            )
        )
    total = currency.round(total)
    items.append(
        Command.create(
            {
                "display_type": "payment_term",
                "date_maturity": date_due,
                "discount_date": False,
                "discount_balance": 0.0,
                "discount_amount_currency": 0.0,
                "amount_currency": total,
                "balance": total,
            }
        )
    )
    return items


def _fee_line(label, amount, product, account):
    vals = {
        "name": label,
        "quantity": 1,
        "price_unit": float(amount),
        "tax_ids": [Command.clear()],
    }
    if product:
        vals["product_id"] = product.id
    if account:
        vals["account_id"] = account.id
    return Command.create(vals)


def post_batch(moves):
    """Post new, complete fee documents as ``action_post`` does, with a
    number of queries that does not grow per document: the customers
    follow their documents (one insert), the journal's next number is
    looked up once (Odoo's transaction cache of sequence numbers gives
    the rest, gapless and in order), the balance is checked once for all
    and the customer ranks are raised in one update."""
    _subscribe_customers(moves)
    ranks = defaultdict(int)
    # Posting changes no journal item of a complete invoice: no line sync
    # per numbered document.
    moves.with_context(
        check_move_validity=False,
        skip_invoice_sync=True,
        dunning_sequence_formats={},
        dunning_customer_ranks=ranks,
    ).action_post()
    _check_balance(moves)
    _raise_ranks(moves, ranks)


def after_insert(moves):
    """What posting does besides the rows, for documents inserted posted
    (``fee_documents_sql``): the customers follow them, the balance is
    checked and the customer ranks are raised, as ``post_batch`` does."""
    _subscribe_customers(moves)
    _check_balance(moves)
    ranks = defaultdict(int)
    for move in moves:
        # action_post raises the rank of the customer and its company once
        for partner in move.partner_id | move.partner_id.commercial_partner_id:
            ranks[partner.id] += 1
    _raise_ranks(moves, ranks)


def _check_balance(moves):
    unbalanced = moves._get_unbalanced_moves({"records": moves})
    if unbalanced:
        raise UserError(
            moves.env._(
                "The following entries are unbalanced: %s",
                ", ".join(moves.browse(row[0]).name for row in unbalanced),
            )
        )


def _raise_ranks(moves, ranks):
    by_count = defaultdict(list)
    for partner_id, count in ranks.items():
        by_count[count].append(partner_id)
    for count, partner_ids in by_count.items():
        moves.env["res.partner"].browse(partner_ids)._increase_rank("customer_rank", count)


def _subscribe_customers(moves):
    """Make each document's customer a follower, as posting does (with
    Odoo's default subtypes), for all documents in one insert."""
    Followers = moves.env["mail.followers"].sudo()
    existing = {
        (follower.res_id, follower.partner_id.id)
        for follower in Followers.search_fetch(
            [("res_model", "=", moves._name), ("res_id", "in", moves.ids)],
            ["res_id", "partner_id"],
        )
    }
    moves = moves.filtered(
        lambda m: m.partner_id.active and (m.id, m.partner_id.id) not in existing
    )
    if not moves:
        return
    default, _internal, external = moves.env["mail.message.subtype"].default_subtypes(moves._name)
    new = {}
    for move in moves:
        partner = move.partner_id
        subtypes = external if partner.partner_share else default
        values, _updates = Followers._add_followers(
            moves._name, move.ids, partner.ids, {partner.id: subtypes.ids}
        )
        new.update(values)
    Followers.with_context(default_partner_id=False).create(
        [dict(vals, res_id=res_id) for res_id, vals_list in new.items() for vals in vals_list]
    )
