"""Inserting the lines of a batch of notices in one INSERT.

The ORM creates a batch's notice lines in one INSERT too, but pays per line
and field for what is the same for all of them: the defaults of the fields
not given (``default_get``), the currency looked up for every amount (a new
record per amount) and the cache of each new line. Here the defaults are
read once, each value is converted by its field's own
``convert_to_column_insert`` (amounts rounded in the notice's currency as
that method does) and the lines are inserted as Odoo inserts them: the same
columns, the same values (``TestNoticeLines`` compares them with lines the
ORM creates from the same values).
"""

from odoo.models import LOG_ACCESS_COLUMNS
from odoo.tools import SQL
from odoo.tools.misc import split_every

from . import sql_rows

INSERT_BATCH_SIZE = 1000


def insert(notices, lines_of):
    """Insert ``lines_of[notice id]`` (lists of the ``create`` values of
    ``isp.dunning.notice.line``) for ``notices``; returns the new lines."""
    env = notices.env
    Line = env["isp.dunning.notice.line"]
    own = {"notice_id", "company_id", "currency_id", *LOG_ACCESS_COLUMNS}
    # The defaults do not depend on the line: read them once, as the ORM
    # reads them for every line (the line's values override them).
    defaults = Line.default_get(
        [
            name
            for name, field in Line._fields.items()
            if field.store and field.column_type and name not in own and name != "id"
        ]
    )
    now = env.cr.now()
    stored_list = []
    for notice in notices:
        for vals in lines_of.get(notice.id, ()):
            stored = dict(defaults, **vals)
            stored.update(
                notice_id=notice.id,
                company_id=notice.company_id.id,
                currency_id=notice.currency_id.id,
                create_uid=env.uid,
                create_date=now,
                write_uid=env.uid,
                write_date=now,
            )
            stored_list.append(stored)
    if not stored_list:
        return Line
    currencies = {currency.id: currency for currency in notices.currency_id}
    ids = []
    for sublist in split_every(INSERT_BATCH_SIZE, stored_list):
        fnames = sorted({name for stored in sublist for name in stored})
        columns = [name for name in fnames if Line._fields[name].column_type]
        convert = sql_rows.ColumnValues(Line)
        rows = [
            [
                convert(name, stored, currencies[stored["currency_id"]])
                if name in stored
                else SQL("DEFAULT")
                for name in columns
            ]
            for stored in sublist
        ]
        ids.extend(sql_rows.insert(env, Line, columns, rows))
    lines = Line.browse(ids)
    notices.invalidate_recordset(["line_ids"])
    lines.modified(Line._fields, create=True)
    return lines
