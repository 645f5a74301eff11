from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Compute each company's dunning level of every customer in dunning."""
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    moves = env["account.move"].search([("dunning_level_id", "!=", False)])
    moves.commercial_partner_id._dunning_refresh_level()
