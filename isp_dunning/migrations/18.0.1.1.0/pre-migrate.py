def migrate(cr, version):
    """The customer's dunning level became company-dependent (a jsonb
    column). The old single value is derived from the invoices: drop it,
    the post-migration computes the value of each company."""
    if not version:
        return
    cr.execute("ALTER TABLE res_partner DROP COLUMN IF EXISTS dunning_level_id")
