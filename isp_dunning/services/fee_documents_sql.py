"""Fee documents inserted below the ORM: the rows of ``account_move`` and
``account_move_line`` a batch of complete fee documents gets from Odoo's
``create`` + ``action_post``, written by one INSERT per table and batch.

The shortcuts, each one what Odoo would compute for a fee document (a
customer invoice in the company currency without taxes, payment term,
cash rounding or analytic distribution, all of whose journal items are
given):

* the moves are inserted posted (``state``, ``posted_before``), without a
  draft first; the dates are the given ones (no lock date reached: Odoo
  would move the date) and not in the future (Odoo would schedule the
  posting instead);
* numbers: Odoo's own sequence machinery gives the format of the next
  number once per journal, date and kind (``_get_next_sequence_format``);
  the documents are numbered in the order posting numbers them (date,
  reference, creation), continuing the transaction's sequence cache, which
  is left at the last number as ``_locked_increment`` leaves it; the
  journal's unique index on the number is the lock: numbers another
  transaction posted meanwhile (a parallel worker; invisible to this
  transaction's snapshot) are skipped as ``_locked_increment`` skips them,
  trying the first document alone number after number; any other failed
  INSERT makes ``insert`` give up, and the ORM books the batch;
  ``sequence_prefix``/``sequence_number`` split the number as Odoo does,
  ``made_sequence_gap`` only when the journal's previous number is missing;
* ``payment_reference`` is the number (the journal's Odoo/invoice
  reference); the receivable line is named ``ref - number`` as Odoo names it;
* the customer's values are those of Odoo's compute methods, read once per
  customer: commercial partner, delivery address, fiscal position (whose
  account mapping the given income accounts do not go through, as in
  ``create`` with the accounts given), receivable account (mapped by the
  fiscal position), display name, salesperson, preferred payment method;
  the company's bank account as ``partner_bank_id``; ``narration`` empty
  (no invoice terms configured);
* amounts: every line rounded in the currency as the ORM rounds it; the
  totals, residuals (receivable only, reconcilable) and ``payment_state``
  ``not_paid`` of an unpaid invoice;
* every other stored column is known to the insert (``MOVE_COLUMNS``,
  ``LINE_COLUMNS``): Odoo's default or NULL, or computed by the ORM after
  the INSERT (``COMPUTED_AFTER_INSERT``: Peppol's state, which German
  databases have); a module adding another stored field to either model
  makes ``batch_covered`` refuse.

``batch_covered`` and ``covered`` accept only what this describes (and
refuse a hashed journal, lock dates, storno, an analytic distribution model,
invoice terms); ``fee_documents.book_documents`` books the rest by the ORM.
After the INSERTs the ORM cache is invalidated and what depends on the new
rows elsewhere is marked for recomputation, as after the ORM's INSERT;
the followers, customer ranks and the balance check are those of
``fee_documents.post_batch``. ``TestFeeDocumentShortcuts`` compares every
column with what Odoo books for the same values.
"""

import re
from collections import defaultdict

from psycopg2 import errors as pgerrors

from odoo import fields
from odoo.tools import SQL

from . import sql_rows

# Every stored column of account.move: the values ``insert`` gives and
# those it knows to be NULL or a default for a fee document.
MOVE_COLUMNS = frozenset(
    """
    id create_uid create_date write_uid write_date
    name sequence_prefix sequence_number ref date state move_type is_storno
    journal_id company_id origin_payment_id statement_line_id tax_cash_basis_rec_id
    tax_cash_basis_origin_move_id always_tax_exigible auto_post auto_post_until
    auto_post_origin_id checked posted_before made_sequence_gap secure_sequence_number
    inalterable_hash invoice_date invoice_date_due delivery_date invoice_payment_term_id
    partner_id commercial_partner_id partner_shipping_id partner_bank_id fiscal_position_id
    payment_reference qr_code_method preferred_payment_method_line_id currency_id
    invoice_currency_rate amount_untaxed amount_tax amount_total amount_residual
    amount_untaxed_signed amount_untaxed_in_currency_signed amount_tax_signed
    amount_total_signed amount_total_in_currency_signed amount_residual_signed
    payment_state reversed_entry_id invoice_source_email invoice_partner_display_name
    is_manually_modified quick_edit_total_amount narration is_move_sent invoice_user_id
    invoice_origin invoice_incoterm_id incoterm_location invoice_cash_rounding_id
    sending_data message_main_attachment_id access_token
    dunning_level_id dunning_first_date dunning_last_date dunning_next_date
    dunning_blocked_until dunning_block_reason dunning_interest_until
    dunning_lump_sum_charged dunning_returns_pending dunning_handed_over
    dunning_handover_date dunning_fee_notice_id
    peppol_message_uuid peppol_move_state
    """.split()
)
# Stored fields of Odoo's own modules that the ORM computes after the
# INSERT, as it does after its own (account_peppol's, installed with
# l10n_de: whether the invoice is ready to be sent by Peppol).
COMPUTED_AFTER_INSERT = {
    "account.move": frozenset({"peppol_move_state"}),
    "account.move.line": frozenset(),
}
# Every stored column of account.move.line, likewise.
LINE_COLUMNS = frozenset(
    """
    id create_uid create_date write_uid write_date
    analytic_distribution move_id journal_id company_id company_currency_id move_name
    parent_state date invoice_date ref sequence account_id name debit credit balance
    amount_currency currency_id partner_id is_imported reconcile_model_id payment_id
    statement_line_id statement_id group_tax_id tax_line_id tax_group_id tax_base_amount
    tax_repartition_line_id tax_tag_invert amount_residual amount_residual_currency
    reconciled full_reconcile_id matching_number display_type product_id product_uom_id
    quantity date_maturity price_unit price_subtotal price_total discount discount_date
    discount_amount_currency discount_balance
    """.split()
)
# The values of a document the insert understands, and of its lines.
DOCUMENT_KEYS = frozenset(
    """
    move_type company_id journal_id partner_id currency_id invoice_date date
    invoice_payment_term_id invoice_date_due invoice_origin ref dunning_fee_notice_id
    invoice_line_ids
    """.split()
)
# Accounts whose lines Odoo keeps a residual of.
OPEN_ITEM_TYPES = ("asset_receivable", "liability_payable", "asset_cash", "liability_credit_card")
LINE_KEYS = frozenset(("name", "quantity", "price_unit", "tax_ids", "product_id", "account_id"))


def stored_columns(model):
    return {name for name, field in model._fields.items() if field.store and field.column_type}


def models_known(env):
    """Whether the insert knows every stored column of both models."""
    return (
        stored_columns(env["account.move"]) <= MOVE_COLUMNS
        and stored_columns(env["account.move.line"]) <= LINE_COLUMNS
    )


def covers(env, vals):
    """Whether ``insert`` books this document exactly as Odoo's create +
    action_post would (``covered`` for one document)."""
    return covered(env, [vals])[0]


def covered(env, vals_list):
    """For each document of ``vals_list``: whether ``insert`` books it
    exactly as Odoo's create + action_post would. What is the same for many
    documents (company, journal, date) is checked once."""
    partners = _prefetched(env["res.partner"], [vals.get("partner_id") for vals in vals_list])
    lines = [line for vals in vals_list for _c, _i, line in vals.get("invoice_line_ids") or ()]
    accounts = _prefetched(env["account.account"], [line.get("account_id") for line in lines])
    products = _prefetched(env["product.product"], [line.get("product_id") for line in lines])
    settings = {}

    def setting_covered(company_id, journal_id, date):
        key = (company_id, journal_id, date)
        if key not in settings:
            company = env["res.company"].browse(company_id)
            journal = env["account.journal"].browse(journal_id)
            date = fields.Date.to_date(date)
            settings[key] = (
                journal.type == "sale"
                and journal.active
                and journal.company_id == company
                # no hash of posted entries, no number of another form
                and not journal.restrict_mode_hash_table
                and not journal.sequence_override_regex
                # the payment reference is the number
                and (journal.invoice_reference_model, journal.invoice_reference_type)
                == ("odoo", "invoice")
                and not company.account_storno
                and not getattr(company, "restrictive_audit_trail", False)
                # posted now (not scheduled) on the given date (no lock date
                # moves it)
                and date <= fields.Date.context_today(env["account.move"])
                and not company._get_violated_lock_dates(date, False, journal)
            )
        return settings[key]

    def document_covered(vals):
        if set(vals) - DOCUMENT_KEYS or vals.get("move_type") != "out_invoice":
            return False
        if vals.get("invoice_payment_term_id") or not vals.get("partner_id"):
            return False
        if not vals.get("date") or vals.get("invoice_date") != vals["date"]:
            return False
        if not vals.get("invoice_date_due") or not vals.get("invoice_line_ids"):
            return False
        for command, _id, line in vals["invoice_line_ids"]:
            if command != 0 or set(line) - LINE_KEYS or not line.get("account_id"):
                return False
            if line.get("tax_ids", [(5, 0, 0)]) not in ([(5, 0, 0)], [(5,)], [(5, 0)], []):
                return False
            if float(line.get("price_unit") or 0.0) < 0 or float(line.get("quantity") or 0.0) <= 0:
                return False
        company = env["res.company"].browse(vals["company_id"])
        if vals.get("currency_id") != company.currency_id.id:
            return False
        total = sum(
            float(line.get("quantity") or 1.0) * float(line.get("price_unit") or 0.0)
            for _c, _i, line in vals["invoice_line_ids"]
        )
        if company.currency_id.compare_amounts(total, 0.0) <= 0:
            # Odoo treats an invoice of nothing as paid at once.
            return False
        # What Odoo would refuse to create or post.
        partner = partners[vals["partner_id"]]
        if partner.company_id and partner.company_id != company:
            return False
        for _c, _i, line in vals["invoice_line_ids"]:
            account = accounts[line["account_id"]]
            if company not in account.company_ids or account.deprecated:
                return False
            # an income account: the line has no residual to reconcile
            if account.reconcile or account.account_type in OPEN_ITEM_TYPES:
                return False
            product = products.get(line.get("product_id"))
            if product and product.company_id and product.company_id != company:
                return False
        return setting_covered(vals["company_id"], vals["journal_id"], vals["date"])

    return [document_covered(vals) for vals in vals_list]


def _prefetched(model, ids):
    """{id: record} of ``ids``, the records read together."""
    return {record.id: record for record in model.browse(sorted({i for i in ids if i}))}


def batch_covered(env):
    """What the batch as a whole needs: the models known, no analytic
    distribution model and no invoice terms."""
    return (
        models_known(env)
        and not env["account.analytic.distribution.model"].sudo().search_count([], limit=1)
        and not env["ir.config_parameter"].sudo().get_param("account.use_invoice_terms")
    )


def insert(env, vals_list):
    """Insert the posted fee documents of ``vals_list`` (accepted by
    ``covers``); returns the moves in the given order, numbered after
    the numbers another transaction posted meanwhile, or None when the
    INSERT fails otherwise (nothing inserted then)."""
    Move = env["account.move"]
    Line = env["account.move.line"]
    now = env.cr.now()
    uid = env.uid
    log = {"create_uid": uid, "create_date": now, "write_uid": uid, "write_date": now}
    defaults = Move.default_get(["invoice_incoterm_id"])
    partners = _PartnerValues(env, vals_list)
    shifts = defaultdict(int)
    formats = {}
    while True:
        numbers = _number(env, vals_list, shifts, formats)
        move_rows, lines_of = _rows(env, vals_list, numbers, partners, defaults, log)
        try:
            with env.cr.savepoint(flush=False):
                move_ids = _insert_rows(env, Move, move_rows, log_exceptions=False)
            break
        except pgerrors.UniqueViolation:
            # Another transaction posted numbers of this sequence that this
            # one does not see (a parallel worker): continue after them.
            if not _skip_taken(env, vals_list, move_rows, numbers, shifts, formats):
                return None
    line_rows = [
        (dict(line, move_id=move_id), currency)
        for move_id, (lines, currency) in zip(move_ids, lines_of, strict=True)
        for line in lines
    ]
    line_ids = _insert_rows(env, Line, line_rows)
    _leave_cache(env, numbers)
    env.invalidate_all()
    moves, lines = Move.browse(move_ids), Line.browse(line_ids)
    # What depends on the new rows elsewhere (a notice's fee document, ...)
    # is recomputed as after the ORM's INSERT; the rows' own computed
    # columns are final.
    with (
        env.protecting([f for f in Move._fields.values() if f.store], moves),
        env.protecting([f for f in Line._fields.values() if f.store], lines),
    ):
        moves.modified(Move._fields, create=True)
        lines.modified(Line._fields, create=True)
    for records in (moves, lines):
        for name in COMPUTED_AFTER_INSERT[records._name] & set(records._fields):
            env.add_to_compute(records._fields[name], records)
    return moves


# How far past the numbers it sees a batch looks for its first free
# number (numbers posted meanwhile by other transactions); beyond, the
# ORM books the batch.
MAX_NUMBERS_TAKEN = 5000


def _skip_taken(env, vals_list, move_rows, numbers, shifts, formats):
    """Move each sequence of the batch past the numbers another transaction
    has posted meanwhile, as Odoo's ``_locked_increment`` finds them: try
    the sequence's first document alone, number after number (each try in
    a savepoint, waiting for a transaction still posting it), until one is
    free. False when no number of the batch was taken (another unique
    constraint failed) or too many are: the ORM books the batch then."""
    moved = False
    first = {}  # the first document of each sequence, by its number
    for index, (*_values, cache_key, seq) in enumerate(numbers):
        if cache_key not in first or seq < numbers[first[cache_key]][5]:
            first[cache_key] = index
    for cache_key, index in first.items():
        row, currency = move_rows[index]
        free = _first_free(env, row["journal_id"], row["sequence_prefix"], row["sequence_number"])
        if free is None:
            return False
        if free > row["sequence_number"]:
            # Straight to the first number no committed document holds; the
            # probes below wait for a transaction still posting it.
            shifts[cache_key] += free - row["sequence_number"]
            moved = True
            row = dict(row, name=_number(env, vals_list, shifts, formats)[index][0])
        for _try in range(MAX_NUMBERS_TAKEN):
            try:
                with env.cr.savepoint(flush=False) as savepoint:
                    _insert_rows(env, env["account.move"], [(row, currency)], log_exceptions=False)
                    savepoint.rollback()  # only a probe: the batch is inserted whole
                break
            except pgerrors.UniqueViolation:
                shifts[cache_key] += 1
                moved = True
                row = dict(row, name=_number(env, vals_list, shifts, formats)[index][0])
        else:
            return False
    return moved


def _first_free(env, journal_id, prefix, number):
    """The first number from ``number`` on (at most MAX_NUMBERS_TAKEN
    further) that no committed posted document of the journal's sequence
    holds, read in a transaction of its own: this transaction's snapshot
    does not show what a parallel worker committed after it began. One
    query instead of a probe per number taken."""
    with env.registry.cursor() as cr:
        cr.execute(
            SQL(
                """
                SELECT min(candidate.number)
                  FROM generate_series(%s, %s) AS candidate(number)
                 WHERE NOT EXISTS (
                       SELECT 1 FROM account_move
                        WHERE journal_id = %s AND sequence_prefix = %s
                          AND sequence_number = candidate.number AND state = 'posted')
                """,
                number,
                number + MAX_NUMBERS_TAKEN - 1,
                journal_id,
                prefix,
            )
        )
        return cr.fetchone()[0]


def _rows(env, vals_list, numbers, partners, defaults, log):
    """The account_move rows and, per move, its account_move_line rows
    (each with the currency that rounds it)."""
    move_rows = []
    lines_of = []
    for vals, (name, prefix, number, gap, _key, _seq) in zip(vals_list, numbers, strict=True):
        company = env["res.company"].browse(vals["company_id"])
        currency = env["res.currency"].browse(vals["currency_id"])
        partner = partners.of(vals["partner_id"], company)
        products = []
        for _command, _id, line in vals["invoice_line_ids"]:
            quantity = float(line.get("quantity") or 1.0)
            price_unit = float(line.get("price_unit") or 0.0)
            products.append((line, quantity, price_unit, currency.round(quantity * price_unit)))
        total = currency.round(sum(amount for *_rest, amount in products))
        move = dict(
            log,
            name=name,
            sequence_prefix=prefix,
            sequence_number=number,
            made_sequence_gap=gap,
            ref=vals.get("ref") or None,
            date=vals["date"],
            state="posted",
            move_type="out_invoice",
            is_storno=False,
            journal_id=vals["journal_id"],
            company_id=company.id,
            always_tax_exigible=False,
            auto_post="no",
            checked=bool(env["account.journal"].browse(vals["journal_id"]).autocheck_on_post),
            posted_before=True,
            invoice_date=vals["invoice_date"],
            invoice_date_due=vals["invoice_date_due"],
            partner_id=vals["partner_id"],
            commercial_partner_id=partner["commercial"],
            partner_shipping_id=partner["shipping"],
            partner_bank_id=partners.company_bank(company),
            fiscal_position_id=partner["fiscal_position"].id or None,
            payment_reference=name,
            preferred_payment_method_line_id=partner["payment_method_line"],
            currency_id=currency.id,
            invoice_currency_rate=1.0,
            amount_untaxed=total,
            amount_tax=0.0,
            amount_total=total,
            amount_residual=total,
            amount_untaxed_signed=total,
            amount_untaxed_in_currency_signed=total,
            amount_tax_signed=0.0,
            amount_total_signed=total,
            amount_total_in_currency_signed=total,
            amount_residual_signed=total,
            payment_state="not_paid",
            is_manually_modified=False,
            invoice_partner_display_name=partner["display_name"],
            invoice_user_id=partner["user"],
            invoice_origin=vals.get("invoice_origin") or None,
            invoice_incoterm_id=defaults.get("invoice_incoterm_id") or None,
            dunning_fee_notice_id=vals.get("dunning_fee_notice_id") or None,
        )
        move_rows.append((move, currency))
        common = dict(
            log,
            journal_id=vals["journal_id"],
            company_id=company.id,
            company_currency_id=company.currency_id.id,
            move_name=name,
            parent_state="posted",
            date=vals["date"],
            invoice_date=vals["invoice_date"],
            ref=vals.get("ref") or None,
            currency_id=currency.id,
            partner_id=partner["commercial"],
            tax_tag_invert=False,
            reconciled=False,
            discount=0.0,
        )
        lines = []
        for line, quantity, price_unit, amount in products:
            product = env["product.product"].browse(line.get("product_id") or [])
            lines.append(
                dict(
                    common,
                    display_type="product",
                    sequence=100,
                    account_id=line["account_id"],
                    name=line.get("name") or None,
                    product_id=product.id or None,
                    product_uom_id=product.uom_id.id or None,
                    quantity=quantity,
                    price_unit=price_unit,
                    price_subtotal=amount,
                    price_total=amount,
                    balance=-amount,
                    amount_currency=-amount,
                    debit=0.0,
                    credit=amount,
                    amount_residual=0.0,
                    amount_residual_currency=0.0,
                )
            )
        ref = vals.get("ref")
        lines.append(
            dict(
                common,
                display_type="payment_term",
                sequence=12000,
                quantity=0.0,
                price_unit=0.0,
                price_subtotal=0.0,
                price_total=0.0,
                account_id=partner["receivable"],
                name=f"{ref} - {name}" if ref and ref != name else name,
                date_maturity=vals["invoice_date_due"],
                balance=total,
                amount_currency=total,
                debit=total,
                credit=0.0,
                amount_residual=total,
                amount_residual_currency=total,
                discount_amount_currency=0.0,
                discount_balance=0.0,
            )
        )
        lines_of.append((lines, currency))

    return move_rows, lines_of


def _insert_rows(env, model, rows, log_exceptions=True):
    """One INSERT of ``rows`` ((values, currency) pairs), each value
    converted as the ORM converts it, a column not given NULL; returns the
    ids in order."""
    computed_later = COMPUTED_AFTER_INSERT[model._name]
    columns = sorted(
        {name for values, _currency in rows for name in values if name not in computed_later}
    )
    convert = sql_rows.ColumnValues(model)
    return sql_rows.insert(
        env,
        model,
        columns,
        [
            [convert(name, values, currency) if name in values else None for name in columns]
            for values, currency in rows
        ],
        log_exceptions=log_exceptions,
    )


class _PartnerValues:
    """What Odoo's compute methods give a fee document of a customer, read
    once per customer and company, for the customers of a batch together."""

    def __init__(self, env, vals_list):
        self.env = env
        self.partners = {
            company_id: _prefetched(
                env["res.partner"].with_company(company_id),
                [vals["partner_id"] for vals in vals_list if vals["company_id"] == company_id],
            )
            for company_id in {vals["company_id"] for vals in vals_list}
        }
        self.cache = {}
        self.banks = {}
        self.auto_positions = {}
        self.by_region = {}
        self.regions_decide = _positions_ranked_by_odoo(env)

    def of(self, partner_id, company):
        key = (partner_id, company.id)
        if key not in self.cache:
            env = self.env
            partner = self.partners[company.id][partner_id]
            commercial = partner.commercial_partner_id
            shipping = partner.address_get(["delivery"])["delivery"]
            # (the customer itself mostly: read with the batch's customers)
            delivery = partner if shipping == partner.id else partner.browse(shipping)
            position = self._fiscal_position(partner, delivery, company)
            receivable = (
                commercial.property_account_receivable_id
                or company.partner_id.with_company(company).property_account_receivable_id
            )
            if position:
                receivable = position.map_account(receivable)
            self.cache[key] = {
                "commercial": commercial.id,
                "shipping": shipping or None,
                "fiscal_position": position,
                "receivable": receivable.id,
                "display_name": partner.display_name,
                "user": (partner.user_id or commercial.user_id or env.user).id,
                "payment_method_line": partner.property_inbound_payment_method_line_id.id or None,
            }
        return self.cache[key]

    def _fiscal_position(self, partner, delivery, company):
        """account.fiscal.position._get_fiscal_position, without its search
        of the positions to apply automatically where the company has none."""
        Position = self.env["account.fiscal.position"].with_company(company)
        if company.vat and partner.vat:
            return Position._get_fiscal_position(partner, delivery=delivery)
        manual = (delivery or partner).property_account_position_id or (
            partner.property_account_position_id
        )
        if manual or not partner.country_id:
            return manual
        if company.id not in self.auto_positions:
            self.auto_positions[company.id] = bool(
                Position.search_count(
                    Position._check_company_domain(company) + [("auto_apply", "=", True)], limit=1
                )
            )
        if not self.auto_positions[company.id]:
            return Position.browse()
        if not self.regions_decide or partner.vat or delivery.vat:
            return Position._get_fiscal_position(partner, delivery=delivery)
        # Without a VAT number (and without a position of its own) Odoo's
        # ranking of the automatic positions reads only the address's
        # country, state and zip: one search per region, not per customer.
        region = (company.id, delivery.country_id.id, delivery.state_id.id, delivery.zip or "")
        if region not in self.by_region:
            self.by_region[region] = Position._get_fiscal_position(partner, delivery=delivery)
        return self.by_region[region]

    def company_bank(self, company):
        if company.id not in self.banks:
            banks = company.partner_id.bank_ids.filtered(
                lambda bank: not bank.company_id or bank.company_id == company
            ).sorted(lambda bank: not bank.allow_out_payment)
            self.banks[company.id] = banks[:1].id or None
        return self.banks[company.id]


# Where Odoo's choice of an automatic fiscal position is defined: a module
# that ranks positions by other values of the customer overrides one of
# these methods.
POSITION_METHODS = ("_get_fiscal_position", "_get_fpos_ranking_functions", "_get_vat_valid")
POSITION_MODULES = ("odoo.addons.account.", "odoo.addons.base_vat.")


def _positions_ranked_by_odoo(env):
    """Whether only account and base_vat define how the automatic fiscal
    position is chosen."""
    mro = type(env["account.fiscal.position"]).__mro__
    for name in POSITION_METHODS:
        owners = [getattr(vars(cls)[name], "__module__", "") for cls in mro if name in vars(cls)]
        if not owners or not all(owner.startswith(POSITION_MODULES) for owner in owners):
            return False
    return True


def _number(env, vals_list, shifts=None, formats=None):
    """(name, sequence_prefix, sequence_number, made_sequence_gap,
    cache_key, seq) of each document, numbered as posting numbers a batch:
    by date, reference and creation, continuing the journal's sequence and
    the transaction's sequence cache; ``shifts``: per sequence (cache key),
    how many numbers other transactions have taken meanwhile; ``formats``:
    the sequences' formats of an earlier call for the same batch (filled
    here), so that numbering again past taken numbers costs no query."""
    shifts = shifts or {}
    Move = env["account.move"]
    cache = Move._get_sequence_cache()
    formats = {} if formats is None else formats
    counters = {}
    order = sorted(
        range(len(vals_list)),
        key=lambda i: (vals_list[i]["date"], vals_list[i].get("ref") or "", i),
    )
    result = [None] * len(vals_list)
    first_of = {}
    for i in order:
        vals = vals_list[i]
        key = (vals["journal_id"], vals["date"])
        if key not in formats:
            probe = Move.new(
                {
                    "move_type": vals["move_type"],
                    "journal_id": vals["journal_id"],
                    "company_id": vals["company_id"],
                    "date": vals["date"],
                    "name": "/",
                }
            )
            format_string, format_values = probe._get_next_sequence_format()
            seq = format_values.pop("seq")
            regex = probe._make_regex_non_capturing(
                probe._sequence_fixed_regex.replace(r"?P<seq>", "")
            )
            cache_key = (
                format_string.format(**format_values, seq=0),
                env["account.journal"].browse(vals["journal_id"]),
            )
            formats[key] = (format_string, format_values, seq, cache_key, regex)
        format_string, format_values, seq, cache_key, regex = formats[key]
        # The transaction's cache first, as _locked_increment; the cache is
        # only moved on once the documents are inserted (_leave_cache).
        if cache_key not in counters:
            counters[cache_key] = cache.get(cache_key, seq) + shifts.get(cache_key, 0)
        counters[cache_key] += 1
        seq = counters[cache_key]
        name = format_string.format(**format_values, seq=seq)
        matching = re.match(regex, name)
        prefix, number = name[: matching.start(1)], int(matching.group(1) or 0)
        result[i] = [name, prefix, number, False, cache_key, seq]
        if (vals["journal_id"], prefix) not in first_of:
            first_of[(vals["journal_id"], prefix)] = i
    for (journal_id, prefix), i in first_of.items():
        number = result[i][2]
        if shifts.get(result[i][4]):
            # the number before it is taken: the probes found it
            continue
        if number > 1:
            env.cr.execute(
                SQL(
                    "SELECT 1 FROM account_move WHERE journal_id = %s AND sequence_prefix = %s"
                    " AND sequence_number = %s LIMIT 1",
                    journal_id,
                    prefix,
                    number - 1,
                )
            )
            result[i][3] = not env.cr.fetchone()
    return [tuple(row) for row in result]


def _leave_cache(env, numbers):
    """Leave the transaction's sequence cache at the last number given, as
    Odoo's _locked_increment leaves it."""
    cache = env["account.move"]._get_sequence_cache()
    last = defaultdict(int)
    for *_values, cache_key, seq in numbers:
        last[cache_key] = max(last[cache_key], seq)
    cache.update(last)
