"""Reading a run's candidates and one batch of customers as plain data for
the core (``domain.planning``): a few queries per batch, no rule here."""

from collections import defaultdict
from dataclasses import dataclass, field

from ..domain import planning
from ..domain.escalation import is_business
from ..domain.money import to_decimal
from . import promises

MOVE_FIELDS = [
    "commercial_partner_id",
    "dunning_level_id",
    "dunning_first_date",
    "dunning_last_date",
    "dunning_next_date",
    "dunning_interest_until",
    "dunning_lump_sum_charged",
    "dunning_blocked_until",
    "dunning_handed_over",
    "dunning_handover_date",
    "dunning_fee_notice_id",
    "dunning_returns_pending",
    "payment_state",
]


@dataclass
class Batch:
    """One batch of customers as the core sees it, plus the invoices' stored
    dunning fields that booking compares against."""

    customers: list = field(default_factory=list)  # planning.Customer, in order
    items: dict = field(default_factory=dict)  # partner id: [planning.OpenItem]
    invoices: dict = field(default_factory=dict)  # partner id: {move id: planning.Invoice}
    move_data: dict = field(default_factory=dict)  # move id: stored dunning fields
    settings: planning.Settings = None
    promises: list = field(default_factory=list)  # promises.PromiseCheck


def candidate_partner_ids(run):
    """Commercial partners with an overdue open invoice or a pending payment
    promise (to be found kept when its invoices are paid), one query."""
    env = run.env
    env.flush_all()
    env.cr.execute(
        """
        SELECT DISTINCT move.commercial_partner_id
          FROM account_move_line line
          JOIN account_move move ON move.id = line.move_id
          JOIN account_account account ON account.id = line.account_id
         WHERE line.company_id = %s
           AND line.parent_state = 'posted'
           AND account.account_type = 'asset_receivable'
           AND NOT line.reconciled
           AND line.amount_residual > 0
           AND line.date_maturity < %s
           AND move.move_type = 'out_invoice'
           AND move.commercial_partner_id IS NOT NULL
         UNION
        SELECT partner_id
          FROM isp_dunning_promise
         WHERE company_id = %s
           AND state = 'open'
         ORDER BY 1
        """,
        (run.company_id.id, run.date, run.company_id.id),
    )
    return [row[0] for row in env.cr.fetchall()]


def read_open_items(run, partner_ids):
    """{partner id: [OpenItem]} of the open receivable lines and the ids of
    the open customer invoices among them."""
    env = run.env
    env.flush_all()
    env.cr.execute(
        """
        SELECT line.move_id, move.commercial_partner_id, line.currency_id,
               line.amount_residual_currency, line.date_maturity,
               move.move_type
          FROM account_move_line line
          JOIN account_move move ON move.id = line.move_id
          JOIN account_account account ON account.id = line.account_id
         WHERE line.company_id = %s
           AND line.parent_state = 'posted'
           AND account.account_type = 'asset_receivable'
           AND NOT line.reconciled
           AND line.amount_residual_currency != 0
           AND move.commercial_partner_id = ANY(%s)
        """,
        (run.company_id.id, partner_ids),
    )
    items = defaultdict(list)
    invoice_ids = set()
    for move_id, partner_id, currency_id, residual, due, move_type in env.cr.fetchall():
        items[partner_id].append(
            planning.OpenItem(
                move_id=move_id,
                currency=currency_id,
                residual=to_decimal(residual),
                due_date=due,
                move_type=move_type,
            )
        )
        if move_type == "out_invoice" and residual > 0:
            invoice_ids.add(move_id)
    return items, invoice_ids


def already_dunned_ids(run, partner_ids):
    """Customers that have a live notice of this company on the run's date."""
    notices = run.env["isp.dunning.notice"].search(
        [
            ("partner_id", "in", partner_ids),
            ("date", "=", run.date),
            ("state", "not in", ("cancelled", "proposed", "released")),
            ("company_id", "=", run.company_id.id),
        ]
    )
    return set(notices.partner_id.ids)


def settings_for(run, context, currencies):
    """The core's settings for the run's date and the batch's currencies."""
    company = run.company_id
    rates = {}
    precisions = {}
    for currency in currencies:
        precisions[currency.id] = to_decimal(currency.rounding)
        if currency != company.currency_id:
            rates[currency.id] = to_decimal(
                company.currency_id._get_conversion_rate(
                    company.currency_id, currency, company, run.date
                )
            )
    return planning.Settings(
        today=run.date,
        tolerance=to_decimal(company.dunning_tolerance),
        interest_start=company.dunning_interest_start,
        payment_days=company.dunning_payment_days,
        lump_sum=context["lump_sum"],
        return_charge=to_decimal(company.dunning_return_charge),
        base_rates=context["base_rates"],
        rates=rates,
        precisions=precisions,
    )


def read_batch(run, partner_ids, context):
    """The batch's customers, open items and invoices as plain data.
    Customers with a notice on the run's date already are left out (a rerun
    on the same day changes nothing)."""
    env = run.env
    env.flush_all()
    items, invoice_ids = read_open_items(run, partner_ids)
    moves = env["account.move"].browse(sorted(invoice_ids))
    move_data = {row["id"]: row for row in moves.read(MOVE_FIELDS, load=None)}
    partner_data = {
        row["id"]: row
        for row in env["res.partner"]
        .browse(partner_ids)
        .read(["is_company", "vat", "dunning_excluded"])
    }
    already = already_dunned_ids(run, partner_ids)
    currencies = env["res.currency"].browse(
        {item.currency for its in items.values() for item in its}
    )
    dun_fee_docs = run.company_id.dunning_dun_fee_documents

    batch = Batch(items=items, move_data=move_data)
    batch.settings = settings_for(run, context, currencies)
    for move_id, data in move_data.items():
        batch.invoices.setdefault(data["commercial_partner_id"], {})[move_id] = planning.Invoice(
            move_id=move_id,
            level_id=data["dunning_level_id"] or None,
            last_notice_date=data["dunning_last_date"] or None,
            first_notice_date=data["dunning_first_date"] or None,
            interest_until=data["dunning_interest_until"] or None,
            lump_sum_charged=data["dunning_lump_sum_charged"],
            paused_until=data["dunning_blocked_until"] or None,
            handed_over=data["dunning_handed_over"],
            excluded=bool(data["dunning_fee_notice_id"]) and not dun_fee_docs,
            in_payment=data["payment_state"] == "in_payment",
            returns_pending=data["dunning_returns_pending"],
            fee_document=bool(data["dunning_fee_notice_id"]),
        )
    # Payment promises: a pending one pauses, a broken one repeats the level.
    batch.promises = promises.read_promises(run, partner_ids, items)
    promises.apply_to_invoices(batch.promises, batch.invoices)
    for partner_id in partner_ids:
        if partner_id in already:
            continue
        pdata = partner_data[partner_id]
        batch.customers.append(
            planning.Customer(
                partner_id=partner_id,
                is_business=is_business(pdata["is_company"], pdata["vat"]),
                excluded=pdata["dunning_excluded"],
            )
        )
    return batch
