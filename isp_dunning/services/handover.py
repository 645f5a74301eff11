"""Handover of collection cases: one email per case to the level's agency
with a summary PDF, the invoice PDFs and the claims as CSV; the invoices
are marked handed over."""

from ..domain import collection
from ..domain.money import to_decimal
from . import notice_email

HANDOVER_REPORT = "isp_dunning.action_report_dunning_handover"


def claims(notice):
    """The claims of a handover notice for the agency's CSV and summary: the
    rows of the notice's claim statement, so that the agency receives the
    figures the customer was sent. One row per invoice (principal: what is
    claimed plus the payments received), per fee document (earlier ones and
    this notice's, with fees, lump sums and interest) and per credit note or
    payment netted (negative)."""
    notice.ensure_one()
    partner = notice.partner_id
    company = notice.company_id

    def text(value):
        return value or ""

    debtor = {
        "customer_ref": text(partner.ref),
        "customer_name": text(partner.name),
        "street": text(partner.street),
        "zip": text(partner.zip),
        "city": text(partner.city),
        "country": text(partner.country_id.code),
        "email": text(partner.email),
    }
    currency = notice.currency_id.name
    documents, new_charges = collection.statement_amounts(notice._claim_statement().rows)
    moves = notice.env["account.move"].browse(
        [move_id for amounts in documents.values() for move_id in amounts]
    )
    result = []
    for move_id, open_amount in documents["principal"].items():
        move = moves.browse(move_id)
        payments = to_decimal(move.amount_total - move.amount_residual)
        result.append(
            collection.invoice_claim(
                debtor,
                currency,
                number=move.name,
                invoice_date=move.invoice_date,
                due_date=move.invoice_date_due,
                default=collection.default_date(
                    company.dunning_interest_start,
                    move.invoice_date_due,
                    move.dunning_first_date,
                ),
                total=open_amount + payments,
                residual=open_amount,
                lump_sum=0,
                interest=0,
            )
        )
    for move_id, open_amount in documents["earlier_charges"].items():
        move = moves.browse(move_id)
        fee_notice = move.dunning_fee_notice_id
        result.append(
            collection.charges_claim(
                debtor,
                currency,
                number=move.name,
                document_date=move.invoice_date,
                due_date=move.invoice_date_due,
                fees=fee_notice.fee_amount,
                lump_sum=fee_notice.lump_sum_amount,
                interest=fee_notice.interest_amount,
                payments=to_decimal(move.amount_total) - open_amount,
            )
        )
    if new_charges:
        result.append(
            collection.charges_claim(
                debtor,
                currency,
                number=notice.fee_move_id.name or notice.name,
                document_date=notice.date,
                due_date=notice.deadline_date,
                fees=new_charges.get("fee", 0),
                lump_sum=new_charges.get("lump_sum", 0),
                interest=new_charges.get("interest", 0),
                payments=0,
            )
        )
    for move_id, amount in documents["credits"].items():
        move = moves.browse(move_id)
        result.append(
            collection.credit_claim(
                debtor,
                currency,
                refund=move.move_type == "out_refund",
                number=move.name,
                document_date=move.invoice_date or move.date,
                amount=amount,
            )
        )
    return result


def charging_notices(notice):
    """The live notices of the handed-over invoices that charged fees, lump
    sums or interest, oldest first."""
    notice.ensure_one()
    return notice.search(
        [
            ("partner_id", "=", notice.partner_id.id),
            ("state", "!=", "cancelled"),
            ("move_ids", "in", notice.move_ids.ids),
            "|",
            "|",
            ("fee_amount", ">", 0),
            ("lump_sum_amount", ">", 0),
            ("interest_amount", ">", 0),
        ],
        order="date, id",
    )


def fee_documents(notice):
    """The posted, not reversed fee documents of the handed-over case."""
    return charging_notices(notice).fee_move_id.filtered(
        lambda m: m.state == "posted" and m.payment_state != "reversed"
    )


def history(notice):
    """All notices of the handed-over invoices, oldest first."""
    notice.ensure_one()
    return notice.search(
        [
            ("partner_id", "=", notice.partner_id.id),
            ("move_ids", "in", notice.move_ids.ids),
            ("state", "!=", "cancelled"),
        ],
        order="date, id",
    )


def agency_lang(notice):
    """The collection agency's language, else the company's."""
    notice.ensure_one()
    agency = notice.level_id.collection_agency_id
    return agency.lang or notice.company_id.partner_id.lang or notice.env.lang


def hand_over(notices):
    """Email each case of these notices to the level's collection agency."""
    env = notices.env
    notices = notices.filtered(
        lambda n: (
            n.collection_handover
            and not n.handover_mail_id
            and n.state not in ("draft", "cancelled")
        )
    )
    without_address = notices.filtered(lambda n: not n.level_id.collection_agency_id.email)
    for notice in without_address:
        # Never lost: in error with the reason, and the next run tries again.
        notice._set_error(
            env._(
                "The case could not be handed over: the collection agency %s has no "
                "email address. Add it; the next run hands the case over.",
                notice.level_id.collection_agency_id.display_name or env._("(none)"),
            )
        )
    notices -= without_address
    if not notices:
        return
    summaries = notices._render_pdfs(HANDOVER_REPORT, notices)
    invoice_pdfs = notice_email.invoice_attachments(notices)
    Attachment = env["ir.attachment"].sudo()
    mail_vals = []
    for notice in notices:
        agency = notice.level_id.collection_agency_id
        case_claims = claims(notice)
        base_name = notice.name.replace("/", "_")
        attachments = Attachment.create(
            [
                {
                    "name": f"Inkasso_{base_name}.pdf",
                    "raw": summaries[notice.id],
                    "mimetype": "application/pdf",
                    "res_model": notice._name,
                    "res_id": notice.id,
                },
                {
                    "name": f"Inkasso_{base_name}.csv",
                    "raw": collection.claims_csv(case_claims).encode("utf-8"),
                    "mimetype": "text/csv",
                    "res_model": notice._name,
                    "res_id": notice.id,
                },
            ]
        )
        attachment_ids = attachments.ids + [
            invoice_pdfs[move.id].id for move in notice.move_ids if move.id in invoice_pdfs
        ]
        # The agency reads the case in its own language.
        case = notice.with_context(lang=agency_lang(notice))
        body = case.env["ir.qweb"]._render(
            "isp_dunning.handover_mail_body",
            {
                "notice": case,
                "history": history(case),
                "claims": case_claims,
                "total": collection.total_open(case_claims),
                "agency": agency,
            },
        )
        mail_vals.append(
            notice_email.mail_values(
                notice,
                case.env._(
                    "Collection case %(notice)s: %(customer)s",
                    notice=notice.name,
                    customer=notice.partner_id.name,
                ),
                body,
                agency.email_formatted,
                attachment_ids,
            )
        )
    mails = env["mail.mail"].sudo().create(mail_vals)
    for notice, mail in zip(notices, mails, strict=True):
        notice.handover_mail_id = mail
        if notice.state == "error":
            # A handover that failed before: the notice is delivered again.
            notice.write({"state": notice._state_after_handover(), "error_message": False})
        (notice.move_ids | fee_documents(notice)).filtered(
            lambda m: not m.dunning_handed_over
        ).write({"dunning_handed_over": True, "dunning_handover_date": notice.date})
        notice.message_post(
            body=env._("Case handed over to %s.", notice.level_id.collection_agency_id.name)
        )
