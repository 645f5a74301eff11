"""What a run needs before it reads a batch: the company's ladder, checked
for booking, and the levels' configuration for the core."""

from odoo.exceptions import UserError

from ..domain import planning
from ..domain.money import to_decimal
from . import working_calendar


def ladder(run):
    """The company's levels; a run without levels or, when it books,
    without a usable journal and charge accounts stops with a clear
    message."""
    company = run.company_id
    levels = run.env["isp.dunning.level"]._get_ladder(company)
    if not levels:
        raise UserError(run.env._("%s has no dunning levels; configure them first.", company.name))
    if not run.dry_run:
        check_booking_setup(run)
    return levels


def check_booking_setup(run):
    env = run.env
    company = run.company_id
    journal = company._dunning_journal()
    if not journal:
        raise UserError(
            env._(
                "%s has no journal for dunning charges; choose a sales journal in the "
                "Accounting settings.",
                company.name,
            )
        )
    if not journal.active:
        raise UserError(
            env._(
                "The dunning journal %s is archived; choose an active one.",
                journal.display_name,
            )
        )
    for kind, account in company._dunning_charge_accounts().items():
        if not account:
            raise UserError(
                env._(
                    "%(company)s has no income account for %(charge)s; choose one in the "
                    "Accounting settings.",
                    company=company.name,
                    charge=company._dunning_charge_label(kind),
                )
            )
        # The account may have got a default tax since it was chosen.
        company._dunning_check_charge_account(kind, account, UserError)


def prepare_context(run, levels):
    """The levels as ``planning.LevelConfig``, the base rates, the lump
    sum (40 EUR, § 288 (5) BGB) in the company's currency and the company's
    working calendar (``dates.WorkingCalendar``: on which days a block may
    start), read once for the run."""
    env = run.env
    company = run.company_id
    configs = [
        planning.LevelConfig(
            level=level._to_domain_level(),
            fee_amount=to_decimal(level.fee_amount),
            interest_mode=level.interest_mode,
            interest_rate=to_decimal(round(level.interest_rate, 2)),
            b2b_flat_fee=level.b2b_flat_fee,
            block_portal=level.block_portal,
            announce_portal_block=level.announce_portal_block,
            collection_handover=level.collection_handover,
            minimum_amount=to_decimal(level.minimum_amount),
        )
        for level in levels
    ]
    eur = env.ref("base.EUR")
    lump_sum = 40.0
    if company.currency_id != eur:
        lump_sum = eur._convert(40.0, company.currency_id, company, run.date)
    return {
        "levels": levels,
        "configs": configs,
        "base_rates": env["isp.dunning.base.rate"]._get_base_rates(),
        "lump_sum": to_decimal(company.currency_id.round(lump_sum)),
        "working_calendar": working_calendar.read_calendar(company, run.date),
    }
