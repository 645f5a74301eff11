from contextlib import contextmanager
from datetime import date, timedelta

from odoo.tests import tagged

from ..services import notice_texts
from .common import DunningCommon

# What a user could put into a level's HTML template that Odoo's sanitizer
# changes: scripts, event handlers, forbidden styles and links, unclosed tags.
HOSTILE_HTML = (
    '<div style="position: fixed; color: red; background: url(javascript:alert(1))"'
    ' onclick="alert(1)"><p>Dear {{ partner.name }}<script>alert(1)</script>'
    '<a href="javascript:alert(2)">pay</a><img src="x" onerror="alert(3)"/>'
    '<iframe src="https://example.com"></iframe><form><input name="x"/></form>'
    "<table><tr><td>{{ notice.amount_total_due|money(notice.currency_symbol) }}"
    "<td>unclosed<!--[if mso]><p>mso</p><![endif]--><style>p {color: red}</style>"
    "<b><i>crossed</b></i> &amp; &lt;kept&gt; &nbsp; €</div>"
)


@tagged("post_install", "-at_install")
class TestNoticeTexts(DunningCommon):
    """The texts of a batch are stored with one UPDATE, each HTML body
    sanitized once: the stored texts are the ones Odoo's ``write`` stores."""

    def _stored(self, notice):
        notice.invalidate_recordset()
        return {name: notice[name] for name in (*notice_texts.TEXT_FIELDS, "write_uid")}

    def _orm_stored(self, notice, user):
        """The texts of ``notice`` rendered again and written by the ORM, as
        ``user`` (who ran the delivery)."""
        notice = notice.with_user(user)
        parts = notice._render_parts()
        cc, bcc = notice._recipients()
        notice.write(
            {
                "subject": parts["subject"],
                "body_text": parts["body_text"],
                "body_html": parts["body_html"],
                "email_cc": cc,
                "email_bcc": bcc,
            }
        )
        notice.flush_recordset()
        return self._stored(notice)

    def _assert_equal_to_orm(self, notices):
        self.assertTrue(notices)
        for notice in notices:
            fast = self._stored(notice)
            self.assertTrue(fast["body_html"])
            self.assertEqual(fast, self._orm_stored(notice, fast["write_uid"]), notice.name)

    def test_shipped_texts_equal_orm_write(self):
        """Every level with the texts shipped with the addon, in English and
        German, with copies to CC and BCC."""
        self.env["res.lang"]._activate_lang("de_DE")
        shipped = [
            self.env.ref(f"isp_dunning.{xmlid}").sudo()
            for xmlid in ("level_reminder", "level_first", "level_second", "level_final")
        ]
        levels = [self.level_1, self.level_2, self.level_3, self.level_4]
        for lang in ("en_US", "de_DE"):
            for level, source in zip(levels, shipped, strict=True):
                source = source.with_context(lang=lang)
                level.with_context(lang=lang).write(
                    {
                        "subject_template": source.subject_template,
                        "body_text_template": source.body_text_template,
                        "body_html_template": source.body_html_template,
                    }
                )
        self.level_1.write({"cc_emails": "office@example.com", "copy_to_company": True})
        self.company.email = "dunning@example.com"
        self.env["res.partner"].browse(self.business.id).lang = "de_DE"
        due = date(2025, 1, 2)
        for partner in (self.consumer, self.business):
            self.make_invoice(partner, 100.0, due)
        notices = self.Notice
        when = due
        for _level in levels:
            when += timedelta(days=14)
            notices |= self.dun(when).notice_ids
        self.assertEqual(len(notices.level_id), 4)
        self.assertIn("office@example.com", notices.mapped("email_cc"))
        self._assert_equal_to_orm(notices)

    def test_sanitized_html_equals_orm_write(self):
        """A template the sanitizer changes: stored as Odoo's write stores it."""
        self.level_1.body_html_template = HOSTILE_HTML
        self.make_invoice(self.consumer, 100.0, date(2025, 1, 2))
        notices = self.dun(date(2025, 1, 9)).notice_ids
        self.assertNotIn("<script", notices.body_html)
        self.assertNotIn("onclick", notices.body_html)
        self._assert_equal_to_orm(notices)

    def test_one_update_per_batch(self):
        due = date(2025, 1, 2)
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {index}", "email": f"k{index}@example.com"} for index in range(4)]
        )
        for partner in partners:
            self.make_invoice(partner, 100.0, due)
        queries = []
        with contextmanager(self._patchExecute)(queries):
            run = self.dun(due + timedelta(days=7))
        self.assertEqual(len(run.notice_ids), 4)
        self.assertTrue(all(run.notice_ids.mapped("body_html")))
        updates = [
            query
            for query in queries
            if "UPDATE" in query and "isp_dunning_notice" in query and "body_html" in query
        ]
        self.assertEqual(len(updates), 1, updates)

    def test_mails_linked_in_one_update(self):
        """Each notice is linked with its queued mail by one UPDATE; the mail
        names the notice as its record, as mail.message would look it up."""
        due = date(2025, 1, 2)
        partners = self.env["res.partner"].create(
            [{"name": f"Kundin {index}", "email": f"m{index}@example.com"} for index in range(3)]
        )
        for partner in partners:
            self.make_invoice(partner, 100.0, due)
        queries = []
        with contextmanager(self._patchExecute)(queries):
            run = self.dun(due + timedelta(days=7))
        notices = run.notice_ids
        self.assertEqual(len(notices), 3)
        for notice in notices:
            mail = notice.mail_id
            self.assertTrue(mail)
            self.assertEqual(mail.dunning_notice_id, notice)
            self.assertEqual((mail.model, mail.res_id), (notice._name, notice.id))
            self.assertEqual(
                mail.record_name,
                self.env["mail.message"]._get_record_name(
                    {"model": notice._name, "res_id": notice.id}
                ),
            )
            self.assertEqual(mail.body_html, notice.body_html)
        links = [
            query
            for query in queries
            if "UPDATE" in query and "isp_dunning_notice" in query and "mail_id" in query
        ]
        self.assertEqual(len(links), 1, links)
