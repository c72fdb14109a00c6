"""Money arithmetic of billing: Decimal, half-even to cents, and the late-payment split.

Pure (stdlib only). Every amount that leaves this module is quantized to cents, and every split
adds up exactly to what was split, so totals, partial payments and credit balance to the cent.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from retaguarda.shared.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("99999999.99")  # what a boleto can carry (10 digits of centavos)
# Explicit maxima per field (a value past them is refused before any arithmetic, so `1e30` or 40
# nines is a 422 naming the field, never a decimal overflow).
MAX_UNIT_PRICE = MAX_AMOUNT
"""An invoice item's unit price."""
MAX_PLAN_PRICE = Decimal("9999999.99")
"""A plan's price per cycle."""
MAX_PAYMENT = MAX_AMOUNT
"""One payment or one refund."""
MAX_DISCOUNT = MAX_AMOUNT
"""An invoice's discount."""
MAX_QUANTITY = Decimal("1000000")
"""An invoice item's quantity."""


def cents(value: Decimal | int | str) -> Decimal:
    """Rounds half-even to cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def parse_amount(value: Any, field: str, *, allow_zero: bool = False,
                 allow_negative: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A decimal string (or int) with at most 2 decimals and at most `maximum` in absolute value;
    floats are refused (never money)."""
    if isinstance(value, bool | float) or value is None:
        raise ValidationError(field, "amount must be a decimal string such as \"99.90\"")
    text = str(value).strip()
    if len(text) > 40:
        raise ValidationError(field, f"amount must be at most {maximum}")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "amount must be a decimal string such as \"99.90\"") from None
    if not amount.is_finite():
        raise ValidationError(field, "amount must be a finite number")
    if abs(amount) > maximum:  # before quantize: a huge exponent overflows the decimal context
        raise ValidationError(field, f"amount must be at most {maximum}")
    if amount.as_tuple().exponent < -12:  # type: ignore[operator]
        raise ValidationError(field, "amount must have at most 2 decimal places")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_EVEN) and amount.as_tuple().exponent < -2:
        raise ValidationError(field, "amount must have at most 2 decimal places")
    amount = cents(amount)
    if amount < 0 and not allow_negative:
        raise ValidationError(field, "amount must not be negative")
    if amount == 0 and not allow_zero:
        raise ValidationError(field, "amount must be greater than zero")
    return amount


def parse_quantity(value: Any, field: str) -> Decimal:
    if isinstance(value, (bool, float)) or value is None:
        raise ValidationError(field, "quantity must be a decimal string or an integer")
    try:
        q = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "quantity must be a number") from None
    if not q.is_finite() or q <= 0:
        raise ValidationError(field, "quantity must be greater than zero")
    if q.as_tuple().exponent < -3:
        raise ValidationError(field, "quantity must have at most 3 decimal places")
    if q > MAX_QUANTITY:
        raise ValidationError(field, f"quantity must be at most {MAX_QUANTITY}")
    return q


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return cents(quantity * unit_price)


# Late payment ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LateTerms:
    """Fine (once, percent of the principal paid late) and interest (percent a month, pro rata die)."""

    fine_percent: Decimal = Decimal("2")
    interest_percent_month: Decimal = Decimal("1")

    def rate(self, days_late: int) -> tuple[Decimal, Decimal]:
        if days_late <= 0:
            return Decimal(0), Decimal(0)
        fine = self.fine_percent / 100
        interest = self.interest_percent_month / 100 / 30 * days_late
        return fine, interest


def late_charges(principal: Decimal, due_date: date, on: date, terms: LateTerms) -> tuple[Decimal, Decimal]:
    """(fine, interest) owed on `principal` paid on `on` for an invoice due on `due_date`."""
    fine_rate, interest_rate = terms.rate((on - due_date).days)
    return cents(principal * fine_rate), cents(principal * interest_rate)


def amount_due(principal: Decimal, due_date: date, on: date, terms: LateTerms) -> Decimal:
    """What settles `principal` in full on `on`: principal + fine + interest."""
    fine, interest = late_charges(principal, due_date, on, terms)
    return principal + fine + interest


@dataclass(frozen=True)
class Split:
    """How one payment is applied. amount == principal + fine + interest + excess, exactly."""

    principal: Decimal
    fine: Decimal
    interest: Decimal
    excess: Decimal


def split_payment(amount: Decimal, outstanding: Decimal, due_date: date, on: date,
                  terms: LateTerms) -> Split:
    """Applies `amount` paid on `on` to an invoice with `outstanding` principal.

    On time, the payment settles principal and anything beyond is excess (customer credit).
    Late, each real of principal settled costs its share of fine and interest, so a partial late
    payment pays charges only on the part it settles; a full one pays `amount_due`.
    """
    amount = cents(amount)
    outstanding = cents(outstanding)
    if outstanding <= 0:
        return Split(ZERO, ZERO, ZERO, amount)
    fine_full, interest_full = late_charges(outstanding, due_date, on, terms)
    due = outstanding + fine_full + interest_full
    if amount >= due:
        return Split(outstanding, fine_full, interest_full, amount - due)
    fine_rate, interest_rate = terms.rate((on - due_date).days)
    principal = min(outstanding, cents(amount / (1 + fine_rate + interest_rate)))
    charges = amount - principal
    fine = min(cents(principal * fine_rate), charges)
    interest = charges - fine
    return Split(principal, fine, interest, ZERO)


# Periods -----------------------------------------------------------------------------------

CYCLE_MONTHS = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "annual": 12}


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    wanted = anchor_day or day.day
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    due_date: date
    factor: Decimal  # 1 for a full period; days/days_of_full_period for the pro-rated first one

    @property
    def full(self) -> bool:
        return self.factor == 1


def first_anchor(start: date, due_day: int) -> date:
    """The first date on or after `start` whose day is `due_day` (periods begin there)."""
    if start.day <= due_day:
        return start.replace(day=due_day)
    return add_months(start.replace(day=1), 1, due_day)


def period_at(start_date: date, due_day: int, cycle: str, period_start: date) -> Period:
    """The billing period that begins on `period_start` for a subscription.

    Periods are aligned on `due_day` and billed in advance: each is due on its first day. The
    first one, from `start_date` to the day before the first aligned start, is pro-rated by days
    over the full period it falls in.
    """
    months = CYCLE_MONTHS[cycle]
    anchor = first_anchor(start_date, due_day)
    if period_start < anchor:
        end = anchor - timedelta(days=1)
        full_start = add_months(anchor, -months, due_day)
        factor = Decimal((anchor - period_start).days) / Decimal((anchor - full_start).days)
        return Period(period_start, end, period_start, factor)
    nxt = add_months(period_start, months, due_day)
    return Period(period_start, nxt - timedelta(days=1), period_start, Decimal(1))


def prorate(price: Decimal, factor: Decimal) -> Decimal:
    return cents(price * factor)


def period_containing(start_date: date, due_day: int, cycle: str, on: date) -> Period:
    """The billing period of a subscription that contains `on` (the first one when `on` is
    before the start)."""
    months = CYCLE_MONTHS[cycle]
    anchor = first_anchor(start_date, due_day)
    if on < anchor:
        return period_at(start_date, due_day, cycle, start_date)
    start = anchor
    while True:
        nxt = add_months(start, months, due_day)
        if on < nxt:
            return period_at(start_date, due_day, cycle, start)
        start = nxt


def share(amount: Decimal, period: Period, first_day: date, last_day: date) -> Decimal:
    """The part of `amount` (billed for `period`) that covers `first_day`…`last_day`, by days."""
    days = (period.end - period.start).days + 1
    used = max(0, (min(last_day, period.end) - max(first_day, period.start)).days + 1)
    return cents(amount * Decimal(used) / Decimal(days))
