import pytest
from domain.accounts import (
    CHARGE_KINDS,
    FEE,
    INTEREST,
    LUMP_SUM,
    Account,
    default_accounts,
    usable,
)

SKR03 = [
    Account(1, "8400", "income", taxed=True),
    Account(2, "2650", "income_other"),
    Account(3, "2700", "income_other"),
    Account(4, "1400", "asset_receivable"),
    Account(5, "2500", "income_other"),
]
SKR04 = [
    Account(11, "4400", "income", taxed=True),
    Account(12, "7100", "income_other"),
    Account(13, "4830", "income"),
    Account(14, "4800", "income_other"),
]


def test_skr03():
    assert default_accounts("de_skr03", SKR03) == {FEE: 3, LUMP_SUM: 3, INTEREST: 2}


def test_skr04():
    assert default_accounts("de_skr04", SKR04) == {FEE: 13, LUMP_SUM: 13, INTEREST: 12}


def test_german_chart_without_the_account_falls_back():
    accounts = [a for a in SKR03 if a.code != "2650"]
    # the first untaxed "other income" account by code
    assert default_accounts("de_skr03", accounts) == {FEE: 3, LUMP_SUM: 3, INTEREST: 5}


def test_german_account_with_a_tax_is_never_chosen():
    accounts = [Account(2, "2650", "income_other", taxed=True), *SKR03[2:]]
    assert default_accounts("de_skr03", accounts)[INTEREST] == 5


def test_other_chart_takes_other_income_without_tax():
    generic = [
        Account(21, "4000", "income", taxed=True),
        Account(22, "4410", "income"),
        Account(23, "4500", "income_other"),
    ]
    assert default_accounts("generic_coa", generic) == dict.fromkeys(CHARGE_KINDS, 23)


def test_other_chart_without_other_income_takes_untaxed_income():
    generic = [Account(21, "4000", "income", taxed=True), Account(22, "4410", "income")]
    assert default_accounts(None, generic) == dict.fromkeys(CHARGE_KINDS, 22)


def test_no_usable_account():
    accounts = [Account(21, "4000", "income", taxed=True), Account(4, "1400", "asset_receivable")]
    assert default_accounts("generic_coa", accounts) == dict.fromkeys(CHARGE_KINDS, None)


def test_german_codes_in_a_foreign_chart_mean_nothing():
    accounts = [Account(2, "2650", "income_other"), Account(3, "2700", "income_other")]
    assert default_accounts("generic_coa", accounts) == dict.fromkeys(CHARGE_KINDS, 2)


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (Account(1, "1", "income"), True),
        (Account(1, "1", "income_other"), True),
        (Account(1, "1", "income", taxed=True), False),
        (Account(1, "1", "expense"), False),
        (Account(1, "1", "asset_receivable"), False),
    ],
)
def test_usable(account, expected):
    assert usable(account) is expected
