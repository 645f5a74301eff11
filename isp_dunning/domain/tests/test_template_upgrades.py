from domain.rendering import render
from domain.template_upgrades import (
    NEW_CLAIM_ROWS_END,
    OLD_CLAIM_ROWS_END,
    mend_claim_line_breaks,
)

# The claim table of the shipped text bodies (isp_dunning_level_data.xml).
TABLE = (
    "{% for section in claim.sections %}{{ section.title }}:\n"
    "{% for row in section.rows %}- {{ row.label }}: {{ row.amount }}"
    "{% if row.detail %} ({{ row.detail }}){% endif %}\n"
    "{% endfor %}\n"
    "{% endfor %}Total due: {{ claim.total }}\n"
)
CLAIM = {
    "sections": [
        {
            "title": "Invoices",
            "rows": [
                {"label": "INV/1", "amount": "10.00", "detail": ""},
                {"label": "INV/2", "amount": "20.00", "detail": "part"},
            ],
        },
        {"title": "Costs", "rows": [{"label": "Fee", "amount": "5.00", "detail": ""}]},
    ],
    "total": "35.00",
}


def test_the_shipped_table_ran_its_rows_together():
    assert render(TABLE, {"claim": CLAIM}, html=False) == (
        "Invoices:\n- INV/1: 10.00- INV/2: 20.00 (part)Costs:\n- Fee: 5.00Total due: 35.00\n"
    )


def test_mended_table_has_a_line_per_row_and_a_blank_line_per_section():
    mended = mend_claim_line_breaks(TABLE)
    assert OLD_CLAIM_ROWS_END not in mended
    assert NEW_CLAIM_ROWS_END in mended
    assert render(mended, {"claim": CLAIM}, html=False) == (
        "Invoices:\n- INV/1: 10.00\n- INV/2: 20.00 (part)\n\nCosts:\n- Fee: 5.00\n\n"
        "Total due: 35.00\n"
    )


def test_mending_twice_changes_nothing_more():
    once = mend_claim_line_breaks(TABLE)
    assert mend_claim_line_breaks(once) == once


def test_own_wording_and_empty_values_are_left_alone():
    own = "Dear {{ partner.name }},\n{% for i in invoices %}- {{ i }}\n{% endfor %}\n"
    assert mend_claim_line_breaks(own) == own
    assert mend_claim_line_breaks("") == ""
    assert mend_claim_line_breaks(None) is None
