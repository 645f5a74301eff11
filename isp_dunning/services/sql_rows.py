"""Rows inserted below the ORM, each value converted as the ORM converts it
(used by ``notice_lines`` and ``fee_documents_sql``)."""

from itertools import chain

from odoo.tools import SQL, float_repr

# Field types whose column value depends only on the field and the value
# (and the database's decimal precisions): converted once per batch and
# distinct value.
CONVERTED_ONCE = frozenset(
    ("boolean", "integer", "many2one", "char", "selection", "date", "datetime", "float")
)


class ColumnValues:
    """``values[name]`` as the ORM writes it into the column of ``model``:
    by the field's ``convert_to_column_insert``; a monetary amount rounded
    in ``currency`` as ``Monetary.convert_to_column_insert`` does, without a
    new record per amount to find the currency. A batch's rows repeat most
    values (journal, company, dates, states), so each distinct value of a
    plain column is converted once."""

    def __init__(self, model):
        self.model = model
        self.fields = model._fields
        self.converted = {}

    def __call__(self, name, values, currency):
        field = self.fields[name]
        value = values[name]
        if field.type == "monetary":
            key = (name, currency, type(value), value)
        elif field.type in CONVERTED_ONCE and not getattr(field, "translate", False):
            key = (name, None, type(value), value)
        else:
            return field.convert_to_column_insert(value, self.model, values)
        if key in self.converted:
            return self.converted[key]
        if field.type == "monetary":
            converted = float_repr(currency.round(float(value or 0.0)), currency.decimal_places)
        else:
            converted = field.convert_to_column_insert(value, self.model, values)
        self.converted[key] = converted
        return converted


def insert(env, model, columns, rows, log_exceptions=True):
    """One INSERT into the table of ``model`` of ``rows`` (one list of column
    values per row, in the order of ``columns``; a value may be an SQL
    expression such as ``DEFAULT``); returns the new ids in order."""
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    env.cr.execute(
        SQL(
            "INSERT INTO %s (%s) VALUES %s RETURNING id",
            SQL.identifier(model._table),
            SQL(", ").join(map(SQL.identifier, columns)),
            SQL(", ".join([row] * len(rows)), *chain.from_iterable(rows)),
        ),
        log_exceptions=log_exceptions,
    )
    return [row[0] for row in env.cr.fetchall()]
