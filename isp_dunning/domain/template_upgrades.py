"""Corrections of the shipped level templates for databases that already
hold them: level records are ``noupdate`` (accountants edit their texts),
so a correction is applied by the module's migration, and only where the
text still holds the shipped wording."""

# The text body's claim table as shipped up to 18.0.1.2.0: with Jinja's
# trim_blocks the line break after a block tag at the end of a line is
# dropped, so every row ran into the next and the last into "Total due".
# ``+%}`` keeps that line break (each row on its own line, a blank line
# after each section).
OLD_CLAIM_ROWS_END = "{% endif %}\n{% endfor %}\n{% endfor %}"
NEW_CLAIM_ROWS_END = "{% endif +%}\n{% endfor +%}\n{% endfor %}"


def mend_claim_line_breaks(text):
    """``text`` with the shipped claim table's line breaks restored; any
    other text (an accountant's own wording) unchanged."""
    if not text:
        return text
    return text.replace(OLD_CLAIM_ROWS_END, NEW_CLAIM_ROWS_END)
