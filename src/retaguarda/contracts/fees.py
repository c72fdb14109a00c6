"""The loyalty (fidelidade) cancellation fee: pure Decimal arithmetic, no I/O.

Anatel's consumer rules (RGC) let a provider charge an exit fee during the loyalty period only
in proportion to the benefit given and to the time left. The contract fixes the full fee
(`loyalty_fee`, the benefit's value); cancelling in month *k* (counting whole months elapsed
since the start) costs ``full × months_left / loyalty_months``, rounded half-even to cents, so
the fee shrinks month by month and is zero once the loyalty period is over.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31/01 + 1 → 28/02)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def months_elapsed(start: date, on: date) -> int:
    """Whole months from `start` to `on` (0 before the first monthiversary; never negative)."""
    if on <= start:
        return 0
    months = (on.year - start.year) * 12 + (on.month - start.month)
    if add_months(start, months) > on:
        months -= 1
    return max(0, months)


def months_left(loyalty_months: int, start: date, on: date) -> int:
    return max(0, loyalty_months - months_elapsed(start, on))


def loyalty_fee(full_fee: Decimal, loyalty_months: int, start: date, on: date) -> Decimal:
    """The fee owed when cancelling on `on`: pro rata to the whole months left of the loyalty."""
    if not isinstance(full_fee, Decimal):
        raise TypeError("full_fee must be a Decimal")
    if full_fee < 0 or loyalty_months < 0:
        raise ValueError("full_fee and loyalty_months must not be negative")
    if loyalty_months == 0 or full_fee == 0:
        return Decimal("0.00")
    left = months_left(loyalty_months, start, on)
    return (full_fee * Decimal(left) / Decimal(loyalty_months)).quantize(CENT, rounding=ROUND_HALF_EVEN)
