"""Letters of notices that go by post: rendered in one batch, stored on the
notice, merged for printing."""

import logging

from markupsafe import Markup

from odoo.tools import format_date, formatLang, html_sanitize, pdf

from ..domain import rendering
from ..domain import salutation as salutation_rules
from . import report_pdf

_logger = logging.getLogger(__name__)

LETTER_REPORT = "isp_dunning.action_report_dunning_letter"

# Contact titles of Odoo's base data that say how to address a person.
TITLE_GENDERS = {
    "base.res_partner_title_madam": salutation_rules.FEMALE,
    "base.res_partner_title_miss": salutation_rules.FEMALE,
    "base.res_partner_title_mister": salutation_rules.MALE,
}


def produce_letters(notices):
    """Render the letters of the notices that go by post and have none yet,
    in one batch; a letter that cannot be produced puts only its notice in
    error. Without report styles (see ``report_pdf``) nothing is recorded:
    the letters are produced by the next delivery."""
    env = notices.env
    notices = notices.filtered(
        lambda n: (
            n.channel in ("letter", "email_letter")
            and n.state in ("to_send", "to_print")
            and not n.letter_attachment_id
        )
    )
    if not notices:
        return
    try:
        pdfs = notices._render_pdfs(LETTER_REPORT, notices)
    except report_pdf.ReportAssetsUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - one bad letter must not stop the batch
        _logger.warning("Letter batch failed, rendering one by one: %s", error)
        pdfs = {}
        for notice in notices:
            try:
                pdfs.update(notices._render_pdfs(LETTER_REPORT, notice))
            except Exception as single_error:  # noqa: BLE001
                notice._set_error(env._("The letter could not be produced: %s", single_error))
    notices = notices.filtered(lambda n: n.id in pdfs)
    attachments = (
        env["ir.attachment"]
        .sudo()
        .create(
            [
                {
                    "name": f"{notice.name.replace('/', '_')}.pdf",
                    "raw": pdfs[notice.id],
                    "mimetype": "application/pdf",
                    "res_model": notice._name,
                    "res_id": notice.id,
                }
                for notice in notices
            ]
        )
    )
    for notice, attachment in zip(notices, attachments, strict=True):
        notice.letter_attachment_id = attachment


def merged_pdf(notices):
    """One PDF of the letters stored on the notices (nothing rendered again)."""
    return pdf.merge_pdf([notice.letter_attachment_id.raw for notice in notices])


def _gender(partner):
    """FEMALE, MALE or None, from the contact's title."""
    if not partner.title:
        return None
    for xmlid, gender in TITLE_GENDERS.items():
        if partner.title == partner.env.ref(xmlid, raise_if_not_found=False):
            return gender
    return None


def letter_values(notice):
    """What the letter shows besides the notice's own fields: salutation,
    the level's letter text, customer number, claim statement (the same
    figures as the email and the pay page) and how to pay (bank account,
    pay link, GiroCode of the amount due)."""
    notice.ensure_one()
    partner = notice.partner_id
    lang = partner.lang or notice.env.lang or "en_US"
    context = notice._render_context()
    source = notice.level_id.with_context(lang=lang).letter_text_template
    text = Markup()
    if source:
        text = Markup(
            html_sanitize(rendering.render(source, context, html=True), sanitize_style=True)
        )
    bank = notice._dunning_bank_account()
    env = notice.with_context(lang=lang).env
    amount = formatLang(env, notice.amount_total_due, currency_obj=notice.currency_id)
    if notice.deadline_date:
        request = env._(
            "Please transfer %(amount)s by %(deadline)s to our account:",
            amount=amount,
            deadline=format_date(env, notice.deadline_date),
        )
    else:
        request = env._("Please transfer %(amount)s to our account:", amount=amount)
    return {
        "salutation": salutation_rules.salutation(
            partner.name, partner.is_company, lang, _gender(partner)
        ),
        "text": text,
        "customer_number": partner.ref or str(partner.id),
        "statement": notice._claim_context(notice._claim_statement(), lang),
        "payment_request": request,
        # the short form of the pay link: typed from paper
        "pay_url": notice._dunning_short_pay_url() if context["notice"]["pay_url"] else "",
        "girocode": notice._dunning_girocode_image(notice.amount_total_due),
        "bank": bank,
        "account_holder": bank.acc_holder_name or bank.partner_id.name or notice.company_id.name,
    }
