"""Plain-Python core of the dunning addon.

Nothing in this package imports odoo: the Odoo models feed it plain values
(dates, Decimals, dicts) and persist what it returns, so the rules can be
tested without a database.
"""
