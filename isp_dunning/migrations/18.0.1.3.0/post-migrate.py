from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The shipped text bodies ran the claim table's rows into one line:
    restore their line breaks where a level still holds the shipped
    wording (``isp.dunning.level._mend_shipped_text_templates``)."""
    if not version:
        return
    api.Environment(cr, SUPERUSER_ID, {})["isp.dunning.level"]._mend_shipped_text_templates()
