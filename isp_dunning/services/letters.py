"""Letters of notices that go by post: rendered in one batch, stored on the
notice, merged for printing."""

import logging

from odoo.tools import pdf

from . import report_pdf

_logger = logging.getLogger(__name__)

LETTER_REPORT = "isp_dunning.action_report_dunning_letter"


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
