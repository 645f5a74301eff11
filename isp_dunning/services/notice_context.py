"""What a notice's templates see: its claim statement and the plain render
context built from a notice (or from a preview's figures). The model keeps
thin methods that delegate here."""

from datetime import timedelta

from stdnum import iban

from ..domain import claim as claim_rules
from ..domain import rendering, template_context
from ..domain.escalation import is_business
from ..domain.money import to_decimal
from . import promises, working_calendar


def render_context(notice, calendar=None):
    """The plain data snapshot the reminder templates see for ``notice``;
    ``calendar``: the company's working calendar read once for a batch
    (``working_calendar.read_calendar``), else read here."""
    notice.ensure_one()
    lines = [
        {
            "move": line.move_id,
            "due_date": line.due_date,
            "days_overdue": line.days_overdue,
            "amount_open": line.amount_open,
            "level": line.level_id,
            "interest_date_from": line.interest_date_from,
            "interest_date_to": line.interest_date_to,
            "interest_days": line.interest_days,
            "interest_amount": line.interest_amount,
            "interest_detail": line.interest_detail,
        }
        for line in notice.line_ids
    ]
    return build_render_context(
        notice.env,
        partner=notice.partner_id,
        level=notice.level_id,
        date=notice.date,
        deadline=notice.deadline_date,
        currency=notice.currency_id,
        lines=lines,
        amounts={
            "amount_open": notice.amount_open,
            "fee_amount": notice.fee_amount,
            "lump_sum_amount": notice.lump_sum_amount,
            "interest_amount": notice.interest_amount,
            "return_charge_amount": notice.return_charge_amount,
            "amount_earlier_charges": notice.amount_earlier_charges,
            "amount_credits": notice.amount_credits,
            "fee_credited": notice.fee_credited,
            "amount_total_due": notice.amount_total_due,
        },
        reference=notice.name,
        company=notice.company_id,
        claim=claim_statement(notice),
        calendar=calendar,
        broken_promise=notice,
        block_workday=notice.portal_block_workday,
        block_guarded=(
            notice.portal_block_postponed
            and not notice.portal_block_workday
            and not notice.portal_block
        ),
    )


def claim_statement(notice):
    """The notice's claim statement (domain.claim.Claim) as stated to the
    customer; for a notice booked before claims were stored, its lines and
    charges."""
    notice.ensure_one()
    if notice.claim_data:
        return claim_rules.Claim.from_data(notice.claim_data)
    lines = [
        {"move": line.move_id, "amount_open": line.amount_open, "due_date": line.due_date}
        for line in notice.line_ids
    ]
    return claim_of_lines(
        lines,
        {
            "fee_amount": notice.fee_amount,
            "lump_sum_amount": notice.lump_sum_amount,
            "interest_amount": notice.interest_amount,
            "fee_credited": notice.fee_credited,
        },
    )


def claim_earlier_charges(notices):
    """The earlier fee documents the notices' claim statements list: the pay
    link and payments quoting a notice settle them with the notice."""
    return notices.env["account.move"].browse(
        sorted(
            {
                row.move_id
                for notice in notices
                for row in claim_statement(notice).rows
                if row.section == "earlier_charges" and row.move_id
            }
        )
    )


def claim_context(env, statement, lang):
    """What the templates see as ``claim``, labelled in ``lang``."""
    move_ids = {row.move_id for row in statement.rows if row.move_id}
    moves = env["account.move"].sudo().browse(sorted(move_ids))
    documents = {move.id: move.name or "" for move in moves}
    env = env(context=dict(env.context, lang=lang))
    titles = {
        "principal": env._("Invoices"),
        "earlier_charges": env._("Earlier dunning charges still open"),
        "new_charges": env._("Charges of this notice"),
        "credits": env._("Credits and payments"),
    }
    labels = {
        "invoice": env._("Invoice"),
        "fee_document": env._("Dunning charges"),
        "fee": env._("Dunning fee"),
        "lump_sum": env._("Lump sum (§ 288 (5) BGB)"),
        "interest": env._("Default interest"),
        "return_charge": env._("Returned direct debit charge"),
        "credit_note": env._("Credit note"),
        "payment": env._("Payment"),
    }
    return claim_rules.claim_context(statement, documents, lang, titles, labels)


def build_render_context(
    env,
    partner,
    level,
    date,
    deadline,
    currency,
    lines,
    amounts,
    reference,
    company,
    claim=None,
    calendar=None,
    broken_promise=None,
    block_workday=None,
    block_guarded=False,
):
    """The render context of a notice from its parts (a booked notice or a
    preview's figures); the notice's own links are left empty.
    ``broken_promise``: the notice whose broken payment promise the text
    states, if any. ``block_workday``, ``block_guarded``: what the booking
    decided about the level's portal block (postponed to this working day;
    postponed by the consumer guard), see ``block_start_date``."""

    def text(value):
        return value or ""

    def money(value):
        return to_decimal(currency.round(value or 0.0))

    banks = company.partner_id.bank_ids
    # Prefer an IBAN: that is what a German customer transfers to.
    bank = banks.filtered(lambda b: iban.is_valid(b.acc_number or ""))[:1] or banks[:1]
    company_data = {
        "name": text(company.name),
        "street": text(company.street),
        "zip": text(company.zip),
        "city": text(company.city),
        "country": text(company.country_id.name),
        "vat": text(company.vat),
        "email": text(company.email),
        "phone": text(company.phone),
        "website": text(company.website),
        "iban": text(bank.acc_number),
        "bic": text(bank.bank_bic),
        "bank_name": text(bank.bank_name),
    }
    lang = partner.lang or "en_US"
    partner_data = {
        "name": text(partner.name),
        "ref": text(partner.ref),
        "street": text(partner.street),
        "zip": text(partner.zip),
        "city": text(partner.city),
        "country": text(partner.country_id.name),
        "email": text(partner.email),
        "lang": lang,
        "is_business": is_business(partner.is_company, partner.vat),
    }
    base_url = company.get_base_url()
    invoices = []
    interest_lines = []
    for line in lines:
        move = line["move"]
        invoices.append(
            {
                "number": text(move.name),
                "date": move.invoice_date,
                "due_date": line["due_date"],
                "amount_total": money(move.amount_total),
                "amount_open": money(line["amount_open"]),
                "days_overdue": line["days_overdue"],
                "level_name": text(line["level"].with_context(lang=lang).name),
                "portal_url": base_url + move.get_portal_url(),
            }
        )
        if line["interest_amount"]:
            interest_lines.append(
                {
                    "invoice": text(move.name),
                    "date_from": line["interest_date_from"],
                    "date_to": line["interest_date_to"],
                    "days": line["interest_days"],
                    "detail": text(line["interest_detail"]),
                    "amount": money(line["interest_amount"]),
                }
            )
    notice_data = {
        "level_name": text(level.with_context(lang=lang).name),
        "level_sequence": level.sequence,
        "date": date,
        "deadline": deadline,
        "currency_symbol": text(currency.symbol),
        "currency": text(currency.name),
        "payment_reference": text(reference),
        "number": text(reference),
        "portal_block_announced": level.announce_portal_block,
        "portal_block": level.block_portal,
        "portal_block_date": announced_block_date(company, level, date, calendar),
        "portal_block_from": block_start_date(
            company, level, date, calendar, block_workday, block_guarded
        ),
        "interest_lines": interest_lines,
        # the notice's own links, set by the notice's _render_context (payment part)
        "pay_url": "",
        "girocode_url": "",
        "broken_promise": promises.broken_promise_context(broken_promise, money)
        if broken_promise
        else None,
    }
    notice_data.update({key: money(value) for key, value in amounts.items()})
    return template_context.make_context(
        company=company_data,
        partner=partner_data,
        notice=notice_data,
        invoices=invoices,
        lang=lang,
        claim=claim_context(env, claim or claim_of_lines(lines, amounts), lang),
    )


def announced_block_date(company, level, date, calendar=None):
    """The earliest day of the block a notice at ``level`` of ``date``
    announces: the announcement period (§ 61 TKG) after the notice, moved to
    the next working day of the company's calendar (a block starts only on a
    working day); None when the level does not announce a block."""
    if not (level.announce_portal_block and date):
        return None
    earliest = date + timedelta(days=company.dunning_block_notice_days)
    calendar = calendar or working_calendar.read_calendar(company, earliest)
    return calendar.next_working_day(earliest)


def block_start_date(company, level, date, calendar=None, workday=None, guarded=False):
    """The day the block of a notice at a blocking ``level`` of ``date``
    takes effect: the working day it was postponed to (``workday``), else
    the notice's day or, when that is no working day of the company, the
    next one (a preview); None when the level does not block or the
    consumer guard (§ 61 TKG) postponed the block (``guarded``: no day is
    known yet)."""
    if not (level.block_portal and date) or guarded:
        return None
    if workday:
        return workday
    calendar = calendar or working_calendar.read_calendar(company, date)
    return calendar.next_working_day(date)


def claim_of_lines(lines, amounts):
    """A claim from a notice's lines and amounts alone (a notice booked before
    claims were stored): its invoices and this notice's charges."""
    rows = [
        claim_rules.ClaimRow(
            "principal",
            "invoice",
            to_decimal(line["amount_open"]),
            line["move"].id,
            line["due_date"],
        )
        for line in lines
    ]
    for kind, key in (
        ("fee", "fee_amount"),
        ("lump_sum", "lump_sum_amount"),
        ("interest", "interest_amount"),
    ):
        if amounts.get(key):
            rows.append(claim_rules.ClaimRow("new_charges", kind, to_decimal(amounts[key])))
    return claim_rules.Claim(rows=tuple(rows), fee_credited=to_decimal(amounts.get("fee_credited")))


def render_level(level, context):
    """Render a level's three templates over a context; raises
    rendering.TemplateProblem with a readable message."""
    return {
        "subject": rendering.render(level.subject_template, context, html=False).strip(),
        "body_text": rendering.render(level.body_text_template, context, html=False),
        "body_html": rendering.render(level.body_html_template, context, html=True),
    }
