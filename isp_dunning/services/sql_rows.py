"""Rows inserted below the ORM, each value converted as the ORM converts it
(used by ``notice_lines`` and ``fee_documents_sql``)."""

from odoo.tools import SQL, float_repr


def column_value(model, name, values, currency):
    """``values[name]`` as the ORM writes it into the column of ``model``: by
    the field's ``convert_to_column_insert``; a monetary amount rounded in
    ``currency`` as ``Monetary.convert_to_column_insert`` does, without a new
    record per amount to find the currency."""
    field = model._fields[name]
    value = values[name]
    if field.type == "monetary":
        return float_repr(currency.round(float(value or 0.0)), currency.decimal_places)
    return field.convert_to_column_insert(value, model, values)


def insert(env, model, columns, rows, log_exceptions=True):
    """One INSERT into the table of ``model`` of ``rows`` (one list of column
    values per row, in the order of ``columns``); returns the new ids in
    order."""
    env.cr.execute(
        SQL(
            "INSERT INTO %s (%s) VALUES %s RETURNING id",
            SQL.identifier(model._table),
            SQL(", ").join(map(SQL.identifier, columns)),
            SQL(", ").join(SQL("(%s)", SQL(", ").join(row)) for row in rows),
        ),
        log_exceptions=log_exceptions,
    )
    return [row[0] for row in env.cr.fetchall()]
