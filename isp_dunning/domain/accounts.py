"""Which income accounts dunning charges are booked on by default.

Fees, lump sums (§ 288 (5) BGB) and default interest are income without
VAT, each on an account of its own kind:

* German charts: interest on "Sonstige Zinsen und ähnliche Erträge"
  (SKR03 2650, SKR04 7100), fees and lump sums on other operating income
  (SKR03 2700, SKR04 4830);
* any other chart (or a German chart without those accounts): the first
  account of type "other income" without default taxes, by code, else the
  first such "income" account; the accountant can choose others per
  company in the settings.

An account that carries a default tax is never chosen.
"""

from dataclasses import dataclass

FEE = "fee"
LUMP_SUM = "lump_sum"
INTEREST = "interest"
CHARGE_KINDS = (FEE, LUMP_SUM, INTEREST)

INCOME_TYPES = ("income", "income_other")

GERMAN_CHART_CODES = {
    "de_skr03": {FEE: "2700", LUMP_SUM: "2700", INTEREST: "2650"},
    "de_skr04": {FEE: "4830", LUMP_SUM: "4830", INTEREST: "7100"},
}


@dataclass(frozen=True)
class Account:
    id: int
    code: str
    account_type: str
    taxed: bool = False


def usable(account):
    """Whether charges may be booked on the account: income, no default tax."""
    return account.account_type in INCOME_TYPES and not account.taxed


def default_accounts(chart_template, accounts):
    """The default account id per charge kind (``None`` when the chart has no
    usable income account)."""
    candidates = sorted((a for a in accounts if usable(a)), key=lambda a: (a.code or "", a.id))
    by_code = {}
    for account in candidates:
        by_code.setdefault(account.code, account)
    fallback = next((a for a in candidates if a.account_type == "income_other"), None) or next(
        iter(candidates), None
    )
    codes = GERMAN_CHART_CODES.get(chart_template, {})
    result = {}
    for kind in CHARGE_KINDS:
        account = by_code.get(codes.get(kind)) or fallback
        result[kind] = account.id if account else None
    return result
