from odoo.tests import tagged

from .common import TourCase


@tagged("post_install", "-at_install")
class TestLevelPreviewTour(TourCase):
    def test_level_preview_tour(self):
        partner = self.env["res.partner"].create({"name": "Tour Kunde GmbH", "is_company": True})
        self.make_overdue_invoice(partner, days_overdue=30)
        self.run_tour(
            "/odoo/action-isp_dunning.action_isp_dunning_level", "isp_dunning_level_preview"
        )
        level = self.env.ref("isp_dunning.level_first")
        self.assertIn("Offener Betrag", level.body_html_template)
