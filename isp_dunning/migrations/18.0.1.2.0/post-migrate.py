from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """One income account per charge kind and a journal of their own for
    fee documents (``res.company._dunning_migrate_settings``); the old
    single account is read from its column, which Odoo drops afterwards."""
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'res_company' AND column_name = 'dunning_income_account_id'"
    )
    old = {}
    if cr.fetchone():
        cr.execute(
            "SELECT id, dunning_income_account_id FROM res_company "
            "WHERE dunning_income_account_id IS NOT NULL"
        )
        old = dict(cr.fetchall())
    Account = env["account.account"]
    for company in env["res.company"].search([("chart_template", "!=", False)]):
        company._dunning_migrate_settings(Account.browse(old.get(company.id)))
