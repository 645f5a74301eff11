import threading
from datetime import date
from decimal import Decimal

import pytest
from domain import rendering
from domain.rendering import TemplateProblem, check_syntax, render
from domain.template_context import sample_context

D = Decimal


def text(source, context=None, **kwargs):
    return render(source, context or {}, html=False, **kwargs)


# -- basics ------------------------------------------------------------------


@pytest.mark.parametrize("source", [None, ""])
@pytest.mark.parametrize("html", [True, False])
def test_empty_source(source, html):
    assert render(source, {"x": 1}, html=html) == ""


def test_plain_data():
    context = {
        "partner": {"name": "Erika", "ref": "K-1"},
        "items": [1, 2, 3],
        "amount": D("12.50"),
        "day": date(2025, 8, 14),
    }
    assert text("{{ partner.name }} ({{ partner['ref'] }})", context) == "Erika (K-1)"
    assert text("{{ items|sum }} {{ items|length }}", context) == "6 3"
    assert text("{{ amount + 1 }} {{ amount * 2 }}", context) == "13.50 25.00"
    assert text("{{ day.year }}", context) == "2025"
    assert text("{{ (amount * 3)|round(1) }}", context) == "37.5"


def test_none_context():
    assert render("ok", None, html=False) == "ok"


def test_context_is_not_modified():
    context = {"a": 1}
    text("{% set a = 2 %}{{ a }}", context)
    assert context == {"a": 1}


def test_none_prints_empty():
    assert text("[{{ partner.street }}]", {"partner": {"street": None}}) == "[]"


def test_html_autoescape():
    context = {"name": "<b>Müller & Co</b>"}
    assert render("<p>{{ name }}</p>", context, html=True) == (
        "<p>&lt;b&gt;Müller &amp; Co&lt;/b&gt;</p>"
    )
    assert render("<p>{{ name }}</p>", context, html=False) == "<p><b>Müller & Co</b></p>"
    assert render("{{ name|safe }}", context, html=True) == "<b>Müller & Co</b>"


def test_block_tags_leave_no_blank_lines():
    source = "A\n{% for i in [1, 2] %}\n  - {{ i }}\n{% endfor %}\nB\n"
    assert text(source) == "A\n  - 1\n  - 2\nB\n"


def test_loops_and_helpers_still_work():
    source = (
        "{% for i in range(3) %}{{ loop.index }}{{ loop.cycle('a', 'b') }}"
        "{% if not loop.last %},{% endif %}{% else %}none{% endfor %}"
        "|{% for x in [] %}x{% else %}none{% endfor %}"
        "|{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}"
        "{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}"
        "|{% macro line(n) %}<{{ n }}>{% endmacro %}{{ line(4) }}"
        "|{{ ['b', 'a']|sort|join('-') }}|{{ 'x' * 3 }}|{{ 2 ** 10 }}"
        "|{{ '%05.1f'|format(3.14159) }}|{{ '{:>4}'.format(7) }}"
        "|{{ 'a%sc' % 'b' }}|{{ 'abc'|center(7) }}|{{ 'a-b'.replace('-', '+') }}"
        "|{{ ', '.join(['x', 'y']) }}"
    )
    assert text(source) == ("1a,2b,3a|none|6|<4>|a-b|xxx|1024|003.1|   7|abc|  abc  |a+b|x, y")


def test_set_block_and_filter_block():
    source = (
        "{% set greeting %}Hallo {{ name }}{% endset %}{{ greeting|upper }}"
        "|{% set shout | upper %}x{% endset %}{{ shout }}"
        "|{% filter upper %}leise{% endfilter %}"
    )
    assert text(source, {"name": "Erika"}) == "HALLO ERIKA|X|LEISE"


def test_range_is_bounded_but_usable():
    assert text("{{ range(1000)|list|length }}") == "1000"
    assert text("{{ range(0, 10, 3)|list }}") == "[0, 3, 6, 9]"
    with pytest.raises(TemplateProblem, match="range"):
        text("{{ range(1001)|list|length }}")
    with pytest.raises(TemplateProblem, match="range"):
        text("{{ range(10**30)|length }}")


# -- filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("{{ a|money }}", {"a": D("1234.56")}, "1.234,56 €"),
        ("{{ a|money }}", {"a": D("-1234.56")}, "-1.234,56 €"),
        ("{{ a|money }}", {"a": D("1234.56"), "lang": "en_US"}, "€1,234.56"),
        ("{{ a|money }}", {"a": D("1234.56"), "lang": "de_DE"}, "1.234,56 €"),
        ("{{ a|money('$', 'en') }}", {"a": D("5")}, "$5.00"),
        ("{{ a|money(lang='en') }}", {"a": D("5"), "lang": "de"}, "€5.00"),
        ("{{ a|money('CHF') }}", {"a": D("5")}, "5,00 CHF"),
        ("{{ money(a) }}", {"a": D("0.005")}, "0,01 €"),
        ("{{ money(a, lang='en_GB') }}", {"a": 3}, "€3.00"),
        ("{{ d|date }}", {"d": date(2025, 8, 14)}, "14.08.2025"),
        ("{{ d|date }}", {"d": date(2025, 8, 14), "lang": "en_US"}, "08/14/2025"),
        ("{{ d|date('en') }}", {"d": date(2025, 8, 14)}, "08/14/2025"),
        ("{{ date(d) }}", {"d": date(2025, 8, 4)}, "04.08.2025"),
        ("[{{ d|date }}]", {"d": None}, "[]"),
        ("{{ r|percent }}", {"r": D("7.27")}, "7,27 %"),
        ("{{ r|percent }}", {"r": D("7.27"), "lang": "en_US"}, "7.27%"),
        ("{{ r|percent }}", {"r": D("5")}, "5,00 %"),
        ("{{ r|percent(1) }}", {"r": D("4.125")}, "4,1 %"),
        ("{{ r|percent }}", {"r": D("-0.88")}, "-0,88 %"),
        ("{{ r|percent(0, 'en') }}", {"r": D("1234.5")}, "1,235%"),
        ("{{ percent(r) }}", {"r": D("11.27")}, "11,27 %"),
    ],
)
def test_format_filters(source, context, expected):
    assert text(source, context) == expected


def test_money_in_html_is_escaped_correctly():
    assert render("{{ a|money }}", {"a": D("1")}, html=True) == "1,00 €"


# -- errors ------------------------------------------------------------------


def test_template_problem_str_and_attributes():
    problem = TemplateProblem("unexpected end of template", 3)
    assert problem.message == "unexpected end of template"
    assert problem.lineno == 3
    assert str(problem) == "Line 3: unexpected end of template"
    assert str(TemplateProblem("oops")) == "oops"
    assert TemplateProblem("oops").lineno is None
    assert isinstance(problem, ValueError)


@pytest.mark.parametrize(
    ("source", "lineno", "fragment"),
    [
        ("a\nb\n{% for x in y %}", 3, "nexpected end of template"),
        ("{% if %}", 1, "Expected an expression"),
        ("a\n\n{{ 1 + }}", 3, "unexpected"),
        ("a\n{{ x|nofilter }}", 2, "No filter named 'nofilter'"),
        ("{% endfor %}", 1, "endfor"),
        ("{{ x }", 1, "unexpected"),
    ],
)
def test_check_syntax(source, lineno, fragment):
    with pytest.raises(TemplateProblem) as info:
        check_syntax(source)
    assert info.value.lineno == lineno
    assert fragment in info.value.message
    assert str(info.value).startswith(f"Line {lineno}: ")
    with pytest.raises(TemplateProblem):
        render(source, {}, html=True)


@pytest.mark.parametrize("source", [None, "", "Hallo {{ partner.name }}", "{% if a %}x{% endif %}"])
def test_check_syntax_accepts(source):
    assert check_syntax(source) is None


@pytest.mark.parametrize(
    ("source", "context", "message"),
    [
        ("{{ env }}", {}, "Unknown variable 'env'"),
        (
            "{{ partner.sudo }}",
            {"partner": {}},
            "Unknown attribute or key 'sudo' on a dict value",
        ),
        ("{{ items[5] }}", {"items": [1]}, "No item 5 in a list value"),
        ("{{ 1 / 0 }}", {}, "division by zero"),
        ("{{ a / 0 }}", {"a": D("1")}, "Invalid calculation"),
        ("{{ 'a' + 1 }}", {}, "Error while rendering"),
        ("{{ money('abc') }}", {}, "not a number"),
        ("{% include 'other' %}", {}, "cannot include"),
        ("{% extends 'base' %}", {}, "cannot include, import or extend"),
        ("{% import 'm' as m %}", {}, "cannot include"),
    ],
)
def test_runtime_errors(source, context, message):
    with pytest.raises(TemplateProblem) as info:
        text(source, context)
    assert message in info.value.message


def test_runtime_error_line_number():
    with pytest.raises(TemplateProblem) as info:
        render(
            "Hallo\n{{ partner.name }}\n{{ partner.missing }}",
            {"partner": {"name": "E"}},
            html=True,
        )
    assert info.value.lineno == 3
    assert str(info.value) == "Line 3: Unknown attribute or key 'missing' on a dict value"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ([] | first).upper() }}",
        "{{ {}|dictsort(by='nope') }}",
        "{{ '{0}'.format() }}",
        "{{ '{a}'.format() }}",
        "{{ '%d' % 'x' }}",
        "{{ 'x'.split(1) }}",
        "{{ 10 // 0 }}",
        "{{ [1, 'a']|sort }}",
        "{{ 2.0 ** 10000 }}",
    ],
)
def test_python_errors_become_template_problems(source):
    with pytest.raises(TemplateProblem) as info:
        text(source)
    assert info.value.lineno in (None, 1)


# -- limits ------------------------------------------------------------------


def test_output_limit():
    assert len(text("{{ 'x' * 100 }}", max_output=100)) == 100
    with pytest.raises(TemplateProblem, match="longer than 100 characters"):
        text("{% for i in range(101) %}x{% endfor %}", max_output=100)
    with pytest.raises(TemplateProblem, match="100"):
        text("{{ 'x' * 101 }}", max_output=100)


def test_timeout_without_output():
    source = (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(TemplateProblem, match="longer than 0.2 seconds"):
        text(source, timeout=0.2)


def test_limits_are_per_render():
    # a generous render after a tight one is not affected
    with pytest.raises(TemplateProblem):
        text("{{ 'x' * 50 }}", max_output=10)
    assert len(text("{{ 'x' * 50 }}")) == 50


def test_render_in_threads():
    results, errors = [], []

    def work(n):
        try:
            results.append(text("{{ n|money }}", {"n": n}))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(D(i),)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == sorted(f"{i},00 €" for i in range(20))


def test_compiled_templates_are_cached():
    rendering._compile.cache_clear()
    source = "Hallo {{ name }}"
    for name in ["A", "B", "C"]:
        assert render(source, {"name": name}, html=True) == f"Hallo {name}"
    render(source, {"name": "D"}, html=False)
    info = rendering._compile.cache_info()
    assert info.misses == 2  # one per (source, autoescape)
    assert info.hits == 2
    assert info.maxsize and info.maxsize <= 1024


# -- sample context ----------------------------------------------------------


def test_sample_context_keys():
    context = sample_context()
    assert set(context) == {"company", "partner", "notice", "invoices", "claim", "lang"}
    assert set(context["company"]) == {
        "name",
        "street",
        "zip",
        "city",
        "country",
        "vat",
        "email",
        "phone",
        "iban",
        "bic",
        "bank_name",
        "website",
    }
    assert set(context["partner"]) == {
        "name",
        "ref",
        "street",
        "zip",
        "city",
        "country",
        "email",
        "lang",
        "is_business",
    }
    assert set(context["notice"]) == {
        "level_name",
        "level_sequence",
        "date",
        "deadline",
        "amount_open",
        "fee_amount",
        "lump_sum_amount",
        "interest_amount",
        "return_charge_amount",
        "amount_total_due",
        "currency_symbol",
        "currency",
        "portal_block_announced",
        "portal_block",
        "portal_block_date",
        "portal_block_from",
        "interest_lines",
        "payment_reference",
        "amount_earlier_charges",
        "amount_credits",
        "fee_credited",
        "pay_url",
        "girocode_url",
        "broken_promise",
        "number",
    }
    claim = context["claim"]
    assert set(claim) == {
        "rows",
        "sections",
        "principal",
        "earlier_charges",
        "new_charges",
        "credits",
        "total",
        "fee_credited",
    }
    assert claim["total"] == context["notice"]["amount_total_due"]
    for row in claim["rows"]:
        assert set(row) == {"section", "kind", "label", "document", "due_date", "amount", "detail"}
    for line in context["notice"]["interest_lines"]:
        assert set(line) == {
            "invoice",
            "date_from",
            "date_to",
            "days",
            "detail",
            "amount",
        }
    for invoice in context["invoices"]:
        assert set(invoice) == {
            "number",
            "date",
            "due_date",
            "amount_total",
            "amount_open",
            "days_overdue",
            "level_name",
            "portal_url",
        }


def test_sample_context_is_consistent():
    context = sample_context()
    notice = context["notice"]
    assert isinstance(notice["date"], date)
    assert isinstance(notice["portal_block_announced"], bool)
    money_values = [
        notice[key]
        for key in (
            "amount_open",
            "fee_amount",
            "lump_sum_amount",
            "interest_amount",
            "amount_total_due",
        )
    ]
    assert all(isinstance(value, Decimal) for value in money_values)
    assert notice["amount_open"] == sum(i["amount_open"] for i in context["invoices"])
    assert notice["interest_amount"] == sum(line["amount"] for line in notice["interest_lines"])
    assert notice["amount_total_due"] == (
        notice["amount_open"]
        + notice["fee_amount"]
        + notice["lump_sum_amount"]
        + notice["interest_amount"]
    )
    for invoice in context["invoices"]:
        assert invoice["days_overdue"] == (notice["date"] - invoice["due_date"]).days
    assert sample_context("en_US")["lang"] == "en"
    assert sample_context("en_US")["partner"]["lang"] == "en_US"


def test_sample_reminder_renders():
    source = "\n".join(
        [
            "Sehr geehrte/r {{ partner.name }} (Kundennummer {{ partner.ref }}),",
            "",
            "bis heute ({{ notice.date|date }}) sind folgende Rechnungen offen:",
            "{% for inv in invoices %}",
            "- {{ inv.number }} vom {{ inv.date|date }},"
            " fällig {{ inv.due_date|date }}: {{ inv.amount_open|money }}",
            "{% endfor %}",
            "{% for line in notice.interest_lines %}",
            "Zinsen {{ line.invoice }}"
            " {{ line.date_from|date }}-{{ line.date_to|date }}:"
            " {{ line.days }} Tage ({{ line.detail }})"
            " = {{ line.amount|money }}",
            "{% endfor %}",
            "Gesamt: {{ notice.amount_total_due|money(notice.currency_symbol) }}"
            " bis {{ notice.deadline|date }}",
            "{% if notice.portal_block_announced %}"
            "Sperre ab {{ notice.portal_block_date|date }}{% endif %}",
            "",
            "IBAN {{ company.iban }}, Verwendungszweck {{ notice.payment_reference }}",
            "",
        ]
    )
    context = sample_context()
    output = render(source, context, html=False)
    assert "Erika Mustermann (Kundennummer K-100234)" in output
    assert "- RE/2025/00412 vom 01.05.2025, fällig 15.05.2025: 49,99 €" in output
    assert "7,27 %" in output and "6,27 %" in output
    assert "Sperre ab 04.09.2025" in output
    assert "None" not in output
    html = render(source.replace("\n", "<br/>\n"), context, html=True)
    assert "Heidestra" not in html  # sample text does not print the street
    assert "&lt;" not in html


@pytest.mark.parametrize("name", ["money", "date", "percent"])
def test_own_filters_report_missing_values_by_name(name):
    with pytest.raises(TemplateProblem) as info:
        text(f"{{{{ notice.missing|{name} }}}}", {"notice": {}})
    assert info.value.message == "Unknown attribute or key 'missing' on a dict value"
    with pytest.raises(TemplateProblem, match="Unknown variable 'nothing'"):
        text(f"{{{{ {name}(nothing) }}}}")
