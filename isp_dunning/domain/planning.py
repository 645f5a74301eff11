"""What one dunning run does for one customer, decided from plain data.

The Odoo layer reads the customer's open receivable items and invoices,
hands them to :func:`plan_customer` and books what comes back. Nothing here
touches the database, so every rule can be tested on its own.

Rules (German practice, § 286/288 BGB):

* an invoice is overdue when one of its open instalments is past its due
  date; only the open residual of the overdue instalments is dunned;
* open credit notes and unreconciled payments are netted: a customer whose
  net overdue balance does not exceed the tolerance gets no notice;
* an invoice moves at most one level per run (see ``escalation``);
* minimum amount per level (as Business Central and SAP): an invoice
  reaches its next level only when the customer's net overdue amount in the
  currency (overdue invoices less credits, the amount netted above) is at
  least that level's minimum (company currency, converted at the run date);
  the notice's level is the highest level reached whose minimum is met; when
  no level's minimum is met the customer waits (no notice, nothing booked)
  and the skip reason says the amount and the minimum (:class:`BelowMinimum`);
* one notice per customer and currency; its level is the highest new level;
  the customer's other overdue invoices are listed as still open;
* the notice level's fee is charged once per notice, the business lump sum
  once per invoice, interest for the days since the last charge;
* an invoice in payment (a payment registered, not yet through the bank)
  is not escalated and keeps its level and dates; when the payment comes
  back it resumes where it was;
* a returned direct debit is charged once, on the next notice that lists
  its invoice (``returns``);
* an invoice covered by a pending payment promise is paused; after a broken
  promise the next notice repeats the level the invoice had
  (``Invoice.repeat_level``, ``promises``).
* § 288 (5) S. 3 BGB: the lump sum is credited against the costs of legal
  pursuit. A notice's fee is charged only as far as it exceeds the lump sums
  charged (on this or an earlier notice) for the invoices on the notice; the
  credited part is ``NoticePlan.fee_credited``. Each notice's fee is compared
  on its own, so the fees charged for an invoice never exceed what the
  crediting allows (a notice at a level charging both charges the larger);
* § 289 BGB: fee documents (fees, lump sums, interest) never bear interest
  nor a lump sum; when they are dunned they only get reminders;
* the notice states the whole claim of its currency: besides its lines, the
  open fee documents not on it (``earlier_charges``) and the open credit
  notes and payments netted against it (``credits``).
"""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from . import escalation, returns
from .interest import compute_interest
from .money import round_fraction, round_money


@dataclass(frozen=True)
class LevelConfig:
    """A dunning level with what it charges and triggers."""

    level: escalation.Level
    fee_amount: Decimal = Decimal("0")
    interest_mode: str = "none"
    interest_rate: Decimal = Decimal("0")
    b2b_flat_fee: bool = False
    block_portal: bool = False
    announce_portal_block: bool = False
    collection_handover: bool = False
    minimum_amount: Decimal = Decimal("0")  # company currency

    @property
    def id(self):
        return self.level.id

    @property
    def sequence(self):
        return self.level.sequence

    @property
    def sort_key(self):
        return (self.level.sequence, self.level.id)


@dataclass(frozen=True)
class OpenItem:
    """One open receivable line (an instalment, a credit note, a payment)."""

    move_id: int
    currency: object
    residual: Decimal
    due_date: date | None = None
    move_type: str = ""  # 'out_invoice', 'out_refund', 'entry' (payments), ...


@dataclass(frozen=True)
class Invoice:
    """Dunning state of one posted customer invoice."""

    move_id: int
    level_id: int | None = None
    last_notice_date: date | None = None
    first_notice_date: date | None = None
    interest_until: date | None = None
    lump_sum_charged: bool = False
    paused_until: date | None = None
    handed_over: bool = False
    excluded: bool = False  # e.g. a fee document when those are not dunned
    in_payment: bool = False  # a payment is registered, not yet through the bank
    returns_pending: int = 0  # returned direct debits not yet passed on
    fee_document: bool = False  # books a notice's fees, lump sums and interest
    # A broken payment promise: the next notice repeats the invoice's level
    # (no reset, no skipping), see ``promises``.
    repeat_level: bool = False


@dataclass(frozen=True)
class Customer:
    partner_id: int
    is_business: bool = False
    excluded: bool = False


@dataclass(frozen=True)
class Settings:
    today: date
    tolerance: Decimal = Decimal("0")
    interest_start: str = "due_date"  # or "first_notice"
    payment_days: int = 10
    lump_sum: Decimal = Decimal("40.00")  # § 288 (5) BGB, company currency
    return_charge: Decimal = Decimal("0")  # per returned debit, company currency
    base_rates: tuple = ()
    # per currency: units of that currency for one unit of company currency
    rates: dict = field(default_factory=dict)
    # per currency: rounding step, e.g. Decimal('0.01')
    precisions: dict = field(default_factory=dict)

    def precision(self, currency):
        return self.precisions.get(currency, Decimal("0.01"))

    def convert(self, amount, currency):
        """Company-currency amount in ``currency``, rounded."""
        rate = self.rates.get(currency, Decimal("1"))
        return round_money(Decimal(amount) * rate, self.precision(currency))


@dataclass(frozen=True)
class InstalmentPlan:
    """One overdue instalment of a notice line and its interest periods."""

    due_date: date
    amount_open: Decimal
    interest_segments: tuple = ()


@dataclass(frozen=True)
class LinePlan:
    move_id: int
    escalated: bool
    new_level_id: int | None
    due_date: date
    days_overdue: int
    amount_open: Decimal
    interest_amount: Decimal = Decimal("0")
    interest_from: date | None = None
    interest_to: date | None = None
    interest_days: int = 0
    interest_segments: tuple = ()
    lump_sum: Decimal = Decimal("0")
    return_charge: Decimal = Decimal("0")
    returns_settled: int = 0  # returned debits this notice passes on
    instalments: tuple = ()  # InstalmentPlan, one per overdue instalment
    fee_document: bool = False


@dataclass(frozen=True)
class NoticePlan:
    partner_id: int
    currency: object
    level: LevelConfig
    date: date
    deadline: date
    lines: tuple
    fee_amount: Decimal
    lump_sum_amount: Decimal
    interest_amount: Decimal
    amount_open: Decimal
    return_charge_amount: Decimal = Decimal("0")
    fee_credited: Decimal = Decimal("0")  # § 288 (5) S. 3 BGB, not charged
    earlier_charges: tuple = ()  # OpenItem of open fee documents not on the notice
    credits: tuple = ()  # OpenItem of open credit notes and payments (negative)

    @property
    def amount_earlier_charges(self):
        return sum((item.residual for item in self.earlier_charges), Decimal("0"))

    @property
    def amount_credits(self):
        """The credits netted, as a positive amount."""
        return -sum((item.residual for item in self.credits), Decimal("0"))

    @property
    def amount_total_due(self):
        """The whole claim: lines, earlier charges and new charges less credits."""
        return self.amount_open + self.amount_earlier_charges + self.charges - self.amount_credits

    @property
    def charges(self):
        return (
            self.fee_amount
            + self.lump_sum_amount
            + self.interest_amount
            + self.return_charge_amount
        )

    @property
    def escalated_move_ids(self):
        return tuple(line.move_id for line in self.lines if line.escalated)


@dataclass
class CustomerPlan:
    """Everything a run decides for one customer."""

    notices: list = field(default_factory=list)
    # move_id -> next date the invoice escalates (None: nothing more to do)
    next_dates: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)  # (move_id or None, reason)


# Why a customer or one of its invoices gets no notice (CustomerPlan.skipped).
SKIP_EXCLUDED = "customer excluded from dunning"
SKIP_PAUSED = "paused"
SKIP_NETTED = "net balance covered by credits"
SKIP_BELOW_TOLERANCE = "below tolerance"
SKIP_IN_PAYMENT = "in payment"
SKIP_BELOW_MINIMUM = "below the level's minimum amount"
SKIP_REASONS = (
    SKIP_EXCLUDED,
    SKIP_PAUSED,
    SKIP_NETTED,
    SKIP_BELOW_TOLERANCE,
    SKIP_IN_PAYMENT,
    SKIP_BELOW_MINIMUM,
)


@dataclass(frozen=True)
class BelowMinimum:
    """Skip reason of a customer that waits because its net overdue amount
    is below the minimum of every level it is due for: the amount, the
    lowest of those minimums (both in ``currency``) and its level."""

    level_id: int
    amount: Decimal
    minimum: Decimal
    currency: object

    reason = SKIP_BELOW_MINIMUM


def _overdue_invoices(items, invoices, today, tolerance, below=None):
    """Per invoice: (earliest overdue due date, overdue items), for invoices
    whose overdue residual exceeds the tolerance; those that do not go to
    ``below`` (a list of move ids) when given."""
    by_move = {}
    for item in items:
        if item.move_id not in invoices or item.residual <= 0:
            continue
        if item.due_date is None or item.due_date >= today:
            continue
        by_move.setdefault(item.move_id, []).append(item)
    result = {}
    for move_id, overdue in by_move.items():
        amount = sum((i.residual for i in overdue), Decimal("0"))
        if amount > tolerance:
            result[move_id] = (min(i.due_date for i in overdue), overdue)
        elif below is not None:
            below.append(move_id)
    return result


def _minimum_met(escalations, net, currency, settings):
    """The escalations whose level's minimum the net overdue amount meets,
    and, when some do not, a :class:`BelowMinimum` with the lowest minimum
    missed (the amount the customer has to reach to get a notice)."""
    met = {}
    missed = []
    for move_id, config in escalations.items():
        minimum = settings.convert(config.minimum_amount, currency)
        if net >= minimum:
            met[move_id] = config
        else:
            missed.append((minimum, config.sort_key, config))
    if not missed:
        return met, None
    minimum, _key, config = min(missed, key=lambda entry: entry[:2])
    amount = round_money(net, settings.precision(currency))
    return met, BelowMinimum(config.id, amount, minimum, currency)


def _repeats_level(invoice, by_id, today):
    """A broken payment promise resumes dunning at the invoice's level: the
    next notice repeats that level (never on the day of the last notice)."""
    return (
        invoice.repeat_level
        and invoice.level_id in by_id
        and (invoice.last_notice_date is None or invoice.last_notice_date < today)
    )


def _interest_for(invoice, overdue_items, level, customer, settings, precision):
    """Interest on the overdue instalments since the last charge, rounded once."""
    today = settings.today
    if level.interest_mode == "none" or invoice.fee_document:
        return None  # § 289 BGB: no interest on fees, lump sums or interest
    total = Fraction(0)
    segments = []
    starts = []
    per_item = {}
    for item in overdue_items:
        if invoice.interest_until:
            start = max(invoice.interest_until, item.due_date)
        elif settings.interest_start == "first_notice":
            # Never before the instalment itself was due.
            start = max(invoice.first_notice_date or today, item.due_date)
        else:
            start = item.due_date
        result = compute_interest(
            item.residual,
            start,
            today,
            level.interest_mode,
            rate=level.interest_rate,
            base_rates=settings.base_rates,
            is_business=customer.is_business,
        )
        total += result.exact
        segments.extend(result.segments)
        per_item[id(item)] = tuple(result.segments)
        if result.segments:
            starts.append(result.segments[0].date_from)
    if not segments:
        return None
    return {
        "amount": round_fraction(total, precision),
        "date_from": min(starts),
        "date_to": today,
        "days": (today - min(starts)).days + 1,
        "segments": tuple(segments),
        "per_item": per_item,
    }


def plan_customer(customer, items, invoices, levels, settings):
    """Decide one run for one customer.

    :param customer: :class:`Customer`
    :param items: open receivable :class:`OpenItem` of the customer (all
        currencies; negative residuals are credits and payments)
    :param invoices: ``{move_id: Invoice}`` for the customer's open invoices
    :param levels: the company's :class:`LevelConfig` in ladder order
    :param settings: :class:`Settings`
    :returns: :class:`CustomerPlan`
    """
    plan = CustomerPlan()
    today = settings.today
    if customer.excluded or not levels:
        plan.skipped.append((None, SKIP_EXCLUDED))
        return plan
    ladder = [config.level for config in levels]
    by_id = {config.id: config for config in levels}
    currencies = []
    for item in items:
        if item.currency not in currencies:
            currencies.append(item.currency)

    for currency in currencies:
        precision = settings.precision(currency)
        tolerance = settings.convert(settings.tolerance, currency)
        currency_items = [i for i in items if i.currency == currency]
        dunnable = {
            move_id: inv
            for move_id, inv in invoices.items()
            if not inv.excluded and not inv.handed_over
        }
        below = []
        overdue = _overdue_invoices(currency_items, dunnable, today, tolerance, below)
        plan.skipped.extend((move_id, SKIP_BELOW_TOLERANCE) for move_id in sorted(below))
        active = {}
        for move_id, (due_date, overdue_items) in overdue.items():
            invoice = dunnable[move_id]
            if invoice.paused_until and invoice.paused_until >= today:
                plan.skipped.append((move_id, SKIP_PAUSED))
                continue
            if invoice.in_payment:
                plan.skipped.append((move_id, SKIP_IN_PAYMENT))
                continue
            active[move_id] = (due_date, overdue_items)
        credits = sum((-i.residual for i in currency_items if i.residual < 0), Decimal("0"))
        open_amounts = [sum((i.residual for i in its), Decimal("0")) for _d, its in active.values()]
        if not active or not escalation.net_balance_positive(open_amounts, [credits], tolerance):
            if active:
                plan.skipped.append((None, SKIP_NETTED))
            continue

        escalations = {}
        for move_id, (due_date, _items) in active.items():
            invoice = dunnable[move_id]
            if _repeats_level(invoice, by_id, today):
                escalations[move_id] = by_id[invoice.level_id]
                continue
            step = escalation.next_level(
                ladder, invoice.level_id, due_date, invoice.last_notice_date, today
            )
            if step is not None:
                escalations[move_id] = by_id[step.id]
        if escalations:
            net = sum(open_amounts, Decimal("0")) - credits
            escalations, waiting = _minimum_met(escalations, net, currency, settings)
            if waiting is not None and not escalations:
                plan.skipped.append((None, waiting))

        for move_id, (due_date, _items) in active.items():
            invoice = dunnable[move_id]
            if move_id in escalations:
                plan.next_dates[move_id] = escalation.next_date(
                    ladder, escalations[move_id].id, due_date, today
                )
            else:
                plan.next_dates[move_id] = escalation.next_date(
                    ladder, invoice.level_id, due_date, invoice.last_notice_date
                )
        if not escalations:
            continue

        level = escalation.highest_level(escalations.values())
        lines = []
        lump_total = Decimal("0")
        interest_total = Decimal("0")
        return_total = Decimal("0")
        return_amount = settings.convert(settings.return_charge, currency)
        lump_credit = Decimal("0")  # lump sums charged for the notice's invoices
        lump_amount = settings.convert(settings.lump_sum, currency)
        for move_id, (due_date, overdue_items) in sorted(
            active.items(), key=lambda kv: (kv[1][0], kv[0])
        ):
            invoice = dunnable[move_id]
            amount_open = sum((i.residual for i in overdue_items), Decimal("0"))
            interest = _interest_for(invoice, overdue_items, level, customer, settings, precision)
            lump_sum = Decimal("0")
            if invoice.fee_document:
                pass  # § 289 BGB: no lump sum for fees, lump sums or interest
            elif invoice.lump_sum_charged:
                lump_credit += lump_amount
            elif level.b2b_flat_fee and customer.is_business:
                lump_sum = lump_amount
                lump_credit += lump_sum
            return_charge = returns.return_charge(invoice.returns_pending, return_amount)
            new_level = escalations.get(move_id)
            per_item = interest["per_item"] if interest else {}
            instalments = tuple(
                InstalmentPlan(
                    due_date=i.due_date,
                    amount_open=round_money(i.residual, precision),
                    interest_segments=per_item.get(id(i), ()),
                )
                for i in sorted(overdue_items, key=lambda i: i.due_date)
            )
            lines.append(
                LinePlan(
                    move_id=move_id,
                    escalated=new_level is not None,
                    new_level_id=new_level.id if new_level else invoice.level_id,
                    due_date=due_date,
                    days_overdue=(today - due_date).days,
                    amount_open=round_money(amount_open, precision),
                    interest_amount=interest["amount"] if interest else Decimal("0"),
                    interest_from=interest["date_from"] if interest else None,
                    interest_to=interest["date_to"] if interest else None,
                    interest_days=interest["days"] if interest else 0,
                    interest_segments=interest["segments"] if interest else (),
                    lump_sum=lump_sum,
                    return_charge=return_charge,
                    returns_settled=max(invoice.returns_pending, 0),
                    instalments=instalments,
                    fee_document=invoice.fee_document,
                )
            )
            lump_total += lump_sum
            return_total += return_charge
            if interest:
                interest_total += interest["amount"]
        fee = settings.convert(level.fee_amount, currency)
        fee_charged = max(Decimal("0"), fee - lump_credit)
        on_notice = {line.move_id for line in lines}
        earlier = tuple(
            replace(i, residual=round_money(i.residual, precision))
            for i in currency_items
            if i.residual > 0
            and i.move_id not in on_notice
            and i.move_id in invoices
            and invoices[i.move_id].fee_document
            and not invoices[i.move_id].handed_over
            and not (invoices[i.move_id].paused_until and invoices[i.move_id].paused_until >= today)
        )
        plan.notices.append(
            NoticePlan(
                partner_id=customer.partner_id,
                currency=currency,
                level=level,
                date=today,
                deadline=today + timedelta(days=settings.payment_days),
                lines=tuple(lines),
                fee_amount=fee_charged,
                lump_sum_amount=lump_total,
                interest_amount=interest_total,
                amount_open=sum((line.amount_open for line in lines), Decimal("0")),
                return_charge_amount=return_total,
                fee_credited=fee - fee_charged,
                earlier_charges=earlier,
                credits=tuple(
                    replace(i, residual=round_money(i.residual, precision))
                    for i in currency_items
                    if i.residual < 0
                ),
            )
        )
    return plan


def describe_instalments(instalments, lang="de"):
    """The interest detail of a notice line: the periods of its instalment,
    or of each instalment with its due date when several are overdue."""
    charged = [i for i in instalments if i.interest_segments]
    if len(charged) == 1:
        return describe_segments(charged[0].interest_segments, lang)
    parts = []
    for instalment in charged:
        detail = describe_segments(instalment.interest_segments, lang)
        if lang.startswith("de"):
            parts.append(f"Rate fällig {instalment.due_date:%d.%m.%Y}: {detail}")
        else:
            parts.append(f"instalment due {instalment.due_date:%Y-%m-%d}: {detail}")
    return "; ".join(parts)


def plan_batch(customers, items, invoices, levels, settings):
    """Decide a batch of customers; one bad customer never stops the others.

    :param customers: :class:`Customer` in the order to plan them
    :param items: ``{partner_id: [OpenItem]}``
    :param invoices: ``{partner_id: {move_id: Invoice}}``
    :returns: ``({partner_id: CustomerPlan}, {partner_id: exception})``
    """
    plans = {}
    errors = {}
    for customer in customers:
        partner_id = customer.partner_id
        try:
            plans[partner_id] = plan_customer(
                customer,
                items.get(partner_id, []),
                invoices.get(partner_id, {}),
                levels,
                settings,
            )
        except Exception as error:  # noqa: BLE001 - reported per customer by the caller
            errors[partner_id] = error
    return plans, errors


def describe_segments(segments, lang="de"):
    """'46 Tage zu 7,27 %, 45 Tage zu 6,27 %' for a notice line."""
    parts = []
    for segment in segments:
        rate = f"{segment.rate:.2f}"
        if lang.startswith("de"):
            parts.append(f"{segment.days} Tage zu {rate.replace('.', ',')} %")
        else:
            parts.append(f"{segment.days} days at {rate} %")
    return ", ".join(parts)
