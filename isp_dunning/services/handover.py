"""Handover of collection cases: one email per case to the level's agency
with a summary PDF, the invoice PDFs and the claims as CSV; the invoices
and fee documents are marked handed over. Which notices hand over, the
claims and what goes with them are decided in ``domain.collection``; this
module reads the books, writes the outcome and queues the mails."""

from ..domain import collection
from ..domain.money import to_decimal
from . import notice_email

HANDOVER_REPORT = "isp_dunning.action_report_dunning_handover"


def claims(notice):
    """The claims of a handover notice for the agency's CSV and summary
    (``domain.collection.case_claims``): its claim statement with the
    documents it names read from the books."""
    notice.ensure_one()
    partner = notice.partner_id

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
    rows = notice._claim_statement().rows
    moves = notice.env["account.move"].browse(sorted({row.move_id for row in rows if row.move_id}))
    own = notice.fee_move_id
    return collection.case_claims(
        debtor,
        notice.currency_id.name,
        rows,
        {move.id: _document(move) for move in moves},
        interest_start=notice.company_id.dunning_interest_start,
        own_document=collection.Document(number=own.name) if own else None,
        notice_number=notice.name,
        notice_date=notice.date,
        deadline=notice.deadline_date,
    )


def _document(move):
    """A document of the case as plain data for the core."""
    fee_notice = move.dunning_fee_notice_id
    return collection.Document(
        number=move.name,
        document_date=move.invoice_date or move.date,
        due_date=move.invoice_date_due or None,
        total=to_decimal(move.amount_total),
        residual=to_decimal(move.amount_residual),
        refund=move.move_type == "out_refund",
        first_notice_date=move.dunning_first_date or None,
        charges=collection.Charges(
            fee=to_decimal(fee_notice.fee_amount),
            lump_sum=to_decimal(fee_notice.lump_sum_amount),
            interest=to_decimal(fee_notice.interest_amount),
            return_charge=to_decimal(fee_notice.return_charge_amount),
        ),
    )


def history(notice):
    """All live notices of the handed-over invoices, oldest first."""
    notice.ensure_one()
    return notice.search(
        [
            ("partner_id", "=", notice.partner_id.id),
            ("move_ids", "in", notice.move_ids.ids),
            ("state", "not in", ("cancelled", "proposed", "released")),
        ],
        order="date, id",
    )


def fee_documents(notice):
    """The fee documents that go to the agency with the case's invoices."""
    return history(notice).fee_move_id.filtered(
        lambda move: collection.hands_over_fee_document(
            move.dunning_fee_notice_id.state, move.state, move.payment_state
        )
    )


def agency_lang(notice):
    """The language the agency reads the case in."""
    notice.ensure_one()
    return collection.agency_lang(
        notice.level_id.collection_agency_id.lang,
        notice.company_id.partner_id.lang,
        notice.env.lang,
    )


def hand_over(notices):
    """Email each case of these notices to the level's collection agency."""
    env = notices.env
    notices = notices.filtered(
        lambda n: collection.handover_pending(n.collection_handover, n.handover_mail_id, n.state)
    )
    without_address = notices.filtered(
        lambda n: (
            collection.handover_problem(n.level_id.collection_agency_id.email)
            == collection.NO_AGENCY_EMAIL
        )
    )
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
            state = collection.state_after_handover(
                notice.channel, notice.mail_id.sudo().state == "sent"
            )
            notice.write({"state": state, "error_message": False})
        (notice.move_ids | fee_documents(notice)).filtered(
            lambda m: not m.dunning_handed_over
        ).write({"dunning_handed_over": True, "dunning_handover_date": notice.date})
        notice.message_post(
            body=env._("Case handed over to %s.", notice.level_id.collection_agency_id.name)
        )
