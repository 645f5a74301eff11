"""What an accountant reads: the paused filter shows pauses still in force,
and the German terms of disputes, dunning charges, the run's preview and
the start of interest."""

from datetime import date, timedelta

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestWording(DunningCommon):
    def _filter_domain(self, name):
        arch = self.env["account.move"].get_view(view_type="search")["arch"]
        (node,) = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"), {"context_today": date.today})

    def test_paused_filter_shows_pauses_in_force(self):
        today = date.today()
        invoices = {}
        for key, until in (
            ("ended", today - timedelta(days=1)),
            ("today", today),
            ("later", today + timedelta(days=30)),
        ):
            invoice = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
            invoice.write({"dunning_blocked_until": until, "dunning_block_reason": "dispute"})
            invoices[key] = invoice
        not_paused = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        domain = self._filter_domain("filter_dunning_paused")
        found = self.env["account.move"].search([*domain, ("partner_id", "=", self.consumer.id)])
        self.assertEqual(found, invoices["today"] | invoices["later"])
        self.assertNotIn(not_paused, found)

    def test_german_terms(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"].search([("name", "=", "isp_dunning")])._update_translations(
            ["de_DE"]
        )
        German = self.env(context=dict(self.env.context, lang="de_DE"))

        def selection(model, field, value):
            return dict(German[model]._fields[field]._description_selection(German))[value]

        self.assertEqual(
            selection("account.move", "dunning_block_reason", "dispute"), "Beanstandung"
        )
        self.assertEqual(
            selection("res.company", "dunning_interest_start", "due_date"),
            "Ab dem Tag nach Fälligkeit",
        )
        self.assertEqual(
            German["isp.dunning.run"]._fields["dry_run"]._description_string(German),
            "Vorschaulauf",
        )
        # The preview and the proposal for review are two things in German too.
        self.assertEqual(
            German.ref("isp_dunning.menu_isp_dunning_preview").name, "Mahnlauf-Vorschau"
        )
        self.assertEqual(German.ref("isp_dunning.menu_isp_dunning_proposal").name, "Mahnvorschlag")
        self.assertEqual(
            German["res.company"]._fields["dunning_journal_id"]._description_string(German),
            "Journal für Mahnkosten",
        )
