"""End to end: Odoo with isp_dunning sends real reminders to a real SMTP
server on loopback.

A throwaway database gets the addon with its demo data; an Odoo shell
configures the outgoing mail server, runs the dunning and Odoo's mail queue;
an aiosmtpd server in this process receives what Odoo sent. Odoo's own test
runner never talks to an SMTP server, so this check runs outside it.
"""

import email
import email.policy
import os
import socket
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller

pytestmark = pytest.mark.skipif(
    os.environ.get("ISP_DUNNING_E2E") != "1",
    reason="end-to-end run: started by tools/test.sh (ISP_DUNNING_E2E=1)",
)


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def wait_for_http(port, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"Odoo did not listen on port {port}")


SHELL_SCRIPT = """
from odoo import fields
env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:%(http_port)d")
company = env.ref("base.main_company")
company.write({"name": "Müller Netz GmbH", "email": "buchhaltung@mueller-netz.example"})
env["ir.mail_server"].search([]).unlink()
env["ir.mail_server"].create({
    "name": "loopback", "smtp_host": "127.0.0.1", "smtp_port": %(port)d,
    "smtp_encryption": "none", "from_filter": False,
})
env["ir.config_parameter"].set_param("mail.catchall.domain", False)
level = env.ref("isp_dunning.level_reminder")
level.write({
    "cc_emails": "Forderungsmanagement <forderungen@mueller-netz.example>",
    "bcc_emails": "archiv@mueller-netz.example",
    "copy_to_company": True,
    "attach_invoices": True,
    "send_letter": True,
})
partner = env.ref("isp_dunning.demo_partner_mustermann")
partner.lang = "de_DE"
env.cr.commit()
run = env["isp.dunning.run"].with_company(company).run_dunning()
env.cr.commit()
# Nothing listens on the SMTP port yet: the connection is refused.
env["mail.mail"].process_email_queue()
env.cr.commit()
notices = env["isp.dunning.notice"].search([("run_id", "=", run.id), ("mail_id", "!=", False)])
print("E2E_DOWN", len(notices), ",".join(sorted(set(notices.mail_id.mapped("state")))),
      ",".join(sorted(set(notices.mapped("state")))))
"""

SHELL_SCRIPT_SMTP_UP = """
# The SMTP server is back: the queue is worked twice, each mail goes once.
env["mail.mail"].process_email_queue()
env.cr.commit()
env["mail.mail"].process_email_queue()
env.cr.commit()
mails = env["isp.dunning.notice"].search([("mail_id", "!=", False)]).mail_id
states = ",".join(sorted(set(mails.mapped("state"))))
print("E2E_SENT", states, ",".join(mails.mapped("message_id")))
partner = env.ref("isp_dunning.demo_partner_mustermann")
notice = env["isp.dunning.notice"].search([("partner_id", "=", partner.id)], limit=1)
print("E2E_NOTICE", notice.name, notice.state, notice.amount_total_due, notice.currency_id.symbol)
with open("%(out)s/letter.pdf", "wb") as handle:
    handle.write(notice.letter_attachment_id.raw)
letters = env["isp.dunning.notice"].search([("state", "=", "to_print")])
action = letters.action_print_letters()
batch = env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
with open("%(out)s/batch.pdf", "wb") as handle:
    handle.write(batch.raw)
env.cr.commit()
states = ",".join(letters.mapped("state"))
print("E2E_BATCH", len(letters), states, ",".join(letters.mapped("name")))
"""


@pytest.fixture(scope="module")
def delivered(odoo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    inbox = Inbox()
    port = odoo_db.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    started = False
    server = None
    try:
        odoo_db.install("--load-language=de_DE")
        # The HTTP server serves the report assets that wkhtmltopdf loads;
        # no cron threads, so only this test works the mail queue.
        http_port = odoo_db.free_port()
        server = subprocess.Popen(
            [*odoo_db.base, f"--http-port={http_port}", "--max-cron-threads=0", "--log-level=warn"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_http(http_port)
        values = {"port": port, "out": out, "http_port": http_port}
        lines = odoo_db.shell(SHELL_SCRIPT % values)
        controller.start()
        started = True
        lines.update(odoo_db.shell(SHELL_SCRIPT_SMTP_UP % values))
        yield (
            inbox.messages,
            lines["E2E_NOTICE"],
            lines["E2E_BATCH"],
            out,
            (lines["E2E_DOWN"], lines["E2E_SENT"]),
        )
    finally:
        if started:
            controller.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=60)


def _mail_to(messages, address):
    return [
        (sender, rcpts, message)
        for sender, rcpts, message in messages
        if address in str(message["To"])
    ]


def test_mail_server_down_then_back_delivers_each_mail_once(delivered):
    messages, _notice, _batch, _out, (down, sent) = delivered
    count, mail_states, notice_states = int(down[1]), down[2], down[3]
    assert count >= 3, "the run queued reminders"
    assert mail_states == "outgoing", "refused connection: every mail stays queued"
    assert "error" not in notice_states.split(","), "no notice marked as failed"
    assert sent[1] == "sent"
    expected = sent[2].split(",")
    received = [str(message["Message-Id"]) for _sender, _rcpts, message in messages]
    for message_id in expected:
        assert received.count(message_id) == 1, message_id


def test_reminder_arrives_once_with_copies(delivered):
    messages, notice, _batch, _out, _down = delivered
    assert notice[2] == "to_print", "emailed; the letter waits for printing"
    received = _mail_to(messages, "max.mustermann@example.com")
    assert len(received) == 1
    _sender, rcpts, message = received[0]
    assert set(rcpts) == {
        "max.mustermann@example.com",
        "forderungen@mueller-netz.example",
        "archiv@mueller-netz.example",
        "buchhaltung@mueller-netz.example",
    }
    assert "forderungen@mueller-netz.example" in str(message["Cc"])
    assert message["Bcc"] is None, "blind copies never show in the headers"


def test_subject_umlauts_are_encoded(delivered):
    messages, _notice, _batch, _out, _down = delivered
    _sender, _rcpts, message = _mail_to(messages, "max.mustermann@example.com")[0]
    raw_subject = message.get_all("Subject")[0]
    assert str(message["Subject"]) == "Zahlungserinnerung von Müller Netz GmbH"
    raw = message.as_bytes()
    assert "Müller".encode() not in raw.split(b"\n\n", 1)[0], "headers are 7-bit encoded"
    assert raw_subject


def test_text_and_html_parts_with_german_amounts(delivered):
    messages, notice, _batch, _out, _down = delivered
    _sender, _rcpts, message = _mail_to(messages, "max.mustermann@example.com")[0]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Guten Tag Max Mustermann,")
    symbol = notice[4]
    assert "Rechnung" in text
    amount = f"{float(notice[3]):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert f"{amount} {symbol}" in text, "German number format"
    assert f"{amount} {symbol}" in html
    assert "<table" in html
    assert "<table" not in text, "the text part is the text template, not converted HTML"


def test_invoice_pdfs_attached(delivered):
    messages, _notice, _batch, _out, _down = delivered
    _sender, _rcpts, message = _mail_to(messages, "max.mustermann@example.com")[0]
    attachments = list(message.iter_attachments())
    assert attachments, "attach_invoices sends the invoices"
    for part in attachments:
        assert part.get_content_type() == "application/pdf"
        assert part.get_content().startswith(b"%PDF")


def pdf_text(path):
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_letter_pdf_content(delivered):
    _messages, notice, _batch, out, _down = delivered
    text = pdf_text(out / "letter.pdf")
    assert "Max Mustermann" in text
    assert "Lindenweg 4" in text and "20095 Hamburg" in text, "window address block"
    assert notice[1] in text
    assert "Rechnung" in text
    assert "DE89370400440532013000" in "".join(text.split()), "bank details"


def test_print_batch_is_one_merged_pdf(delivered):
    _messages, _notice, batch, out, _down = delivered
    count, states, names = int(batch[1]), batch[2].split(","), batch[3].split(",")
    assert count >= 2
    assert set(states) == {"printed"}
    text = pdf_text(out / "batch.pdf")
    for name in names:
        assert name in text
