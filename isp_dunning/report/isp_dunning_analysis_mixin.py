from odoo import api, models
from odoo.tools import SQL, drop_view_if_exists

from ..domain import analytics


def sql_list(values):
    """A SQL list of fixed words from the code (never user input)."""
    if not all(value.isidentifier() for value in values):
        raise ValueError(f"not plain words: {values!r}")
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


# What received_sql reads: flushed before a report that uses it is read.
RECEIPT_DEPENDS = {
    "account.move.line": ["move_id", "journal_id"],
    "account.partial.reconcile": [
        "debit_move_id",
        "credit_move_id",
        "debit_amount_currency",
        "max_date",
    ],
    "account.journal": ["type"],
}


def received_sql(lines_from, condition="TRUE"):
    """The money received (in the documents' currency) on the customer
    documents whose journal items ``lines_from`` yields as ``dl``: their
    reconciliations with entries of receipt journals (domain.analytics),
    restricted by ``condition`` on the reconciliation ``p``."""
    return f"""
        (SELECT COALESCE(SUM(p.debit_amount_currency), 0)
           FROM {lines_from}
           JOIN account_partial_reconcile p ON p.debit_move_id = dl.id
           JOIN account_move_line cl ON cl.id = p.credit_move_id
           JOIN account_journal j ON j.id = cl.journal_id
          WHERE j.type IN {sql_list(analytics.RECEIPT_JOURNAL_TYPES)}
            AND {condition})
    """


class IspDunningAnalysisMixin(models.AbstractModel):
    """Read-only reports on a SQL view (``_query``), with weighted ratios:
    a ratio field listed in ``_ratios`` as ``(part, whole, factor)`` is
    aggregated as ``factor * SUM(part) / SUM(whole)``, never as an average of
    the rows' ratios."""

    _name = "isp.dunning.analysis.mixin"
    _description = "Dunning Analysis Report"
    _auto = False

    _ratios = {}

    @api.model
    def _query(self):
        raise NotImplementedError

    def init(self):
        if self._abstract:
            return
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())
            )
        )

    @api.model
    def _ratio_sql(self, fname, query):
        part, whole, factor = self._ratios[fname]
        return SQL(
            "%s * SUM(%s) / NULLIF(SUM(%s), 0)",
            factor,
            self._field_to_sql(self._table, part, query),
            self._field_to_sql(self._table, whole, query),
        )

    def _read_group_select(self, aggregate_spec, query):
        fname, _sep, func = aggregate_spec.partition(":")
        if fname in self._ratios and func == "avg":
            return self._ratio_sql(fname, query)
        return super()._read_group_select(aggregate_spec, query)
