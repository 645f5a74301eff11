from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """A company that gets a chart of accounts gets dunning's accounts
        and journal with it (new companies, or a chart loaded after the
        installation)."""
        result = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._dunning_setup_accounting(template_code)
        return result
