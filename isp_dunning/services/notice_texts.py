"""Storing the rendered texts of many notices in one UPDATE.

Writing them notice by notice through the ORM sanitizes each HTML body
twice (once into the cache, once more when the cache is flushed) and costs
one UPDATE per notice. Here every value is converted by its own field's
``convert_to_column``, as the flush does (the HTML body sanitized once, with
the field's options), and the batch is stored with one UPDATE. Odoo's
sanitizer returns a sanitized body unchanged, so the stored body is the one
``write`` stores (``TestNoticeTexts`` compares both for the shipped texts).
"""

TEXT_FIELDS = ("subject", "body_text", "body_html", "email_cc", "email_bcc")


def store(notices, texts):
    """Store ``texts`` ({notice id: {field: value}} over ``TEXT_FIELDS``) on
    ``notices`` with one UPDATE, and drop the cached values it replaces."""
    if not texts:
        return
    env = notices.env
    records = notices.browse(list(texts))
    fields_ = [records._fields[name] for name in TEXT_FIELDS]
    columns = {name: [] for name in TEXT_FIELDS}
    for record in records:
        vals = texts[record.id]
        for field in fields_:
            value = field.convert_to_column(vals.get(field.name), record)
            columns[field.name].append(None if value is None else str(value))
    # Nothing of the notices may wait in the cache behind this UPDATE.
    records.flush_recordset()
    env.cr.execute(
        """
        UPDATE isp_dunning_notice AS notice
           SET subject = new.subject,
               body_text = new.body_text,
               body_html = new.body_html,
               email_cc = new.email_cc,
               email_bcc = new.email_bcc,
               write_uid = %s,
               write_date = %s
          FROM unnest(%s::int[], %s::varchar[], %s::text[], %s::text[], %s::varchar[],
                      %s::varchar[])
               AS new(id, subject, body_text, body_html, email_cc, email_bcc)
         WHERE notice.id = new.id
        """,
        (
            env.uid,
            env.cr.now(),
            records.ids,
            *(columns[name] for name in TEXT_FIELDS),
        ),
    )
    records.invalidate_recordset([*TEXT_FIELDS, "write_uid", "write_date"])
    records.modified(TEXT_FIELDS)
