"""The loyalty fee: examples from the Anatel rule (pro rata to the months left) and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.contracts.fees import add_months, loyalty_fee, months_elapsed

START = date(2026, 1, 31)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=2, allow_nan=False,
                   allow_infinity=False)
months = st.integers(min_value=0, max_value=36)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
offsets = st.integers(min_value=-30, max_value=4000)
# CPU is shared in CI: generation may be slow, never the property itself.
relaxed = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@pytest.mark.parametrize(("on", "expected"), [
    (date(2026, 1, 31), "120.00"),   # signing day: 12 of 12 months left
    (date(2026, 2, 27), "120.00"),   # still inside the first month
    (date(2026, 2, 28), "110.00"),   # first monthiversary (31/01 + 1 month = 28/02)
    (date(2026, 7, 31), "60.00"),    # half way
    (date(2026, 12, 31), "10.00"),   # last month
    (date(2027, 1, 31), "0.00"),     # loyalty over
    (date(2025, 12, 1), "120.00"),   # before the start: the whole fee
])
def test_examples(on, expected):
    assert loyalty_fee(Decimal("120.00"), 12, START, on) == Decimal(expected)


def test_rounding_is_half_even_to_cents_and_zero_loyalty_means_no_fee():
    assert loyalty_fee(Decimal("100.00"), 12, START, date(2026, 2, 28)) == Decimal("91.67")
    assert loyalty_fee(Decimal("100.00"), 0, START, START) == Decimal("0.00")
    with pytest.raises(TypeError):
        loyalty_fee(100.0, 12, START, START)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        loyalty_fee(Decimal("-1"), 12, START, START)


@relaxed
@given(fee=fees, n=months, start=starts, offset=offsets)
def test_fee_is_between_zero_and_the_full_fee_in_cents(fee, n, start, offset):
    value = loyalty_fee(fee, n, start, start + timedelta(days=offset))
    assert Decimal("0") <= value <= fee
    assert value == value.quantize(Decimal("0.01"))


@relaxed
@given(fee=fees, n=months, start=starts, a=offsets, b=offsets)
def test_fee_never_grows_with_time(fee, n, start, a, b):
    first, later = sorted((a, b))
    assert loyalty_fee(fee, n, start, start + timedelta(days=later)) <= \
        loyalty_fee(fee, n, start, start + timedelta(days=first))


@relaxed
@given(fee=fees, n=st.integers(min_value=1, max_value=36), start=starts, extra=st.integers(0, 2000))
def test_full_fee_on_the_first_day_and_nothing_after_the_loyalty(fee, n, start, extra):
    assert loyalty_fee(fee, n, start, start) == fee.quantize(Decimal("0.01"))
    assert loyalty_fee(fee, n, start, add_months(start, n) + timedelta(days=extra)) == Decimal("0.00")


@relaxed
@given(fee=fees, n=st.integers(min_value=1, max_value=36), start=starts, k=st.integers(0, 36))
def test_fee_is_pro_rata_to_whole_months_left(fee, n, start, k):
    on = add_months(start, k)
    assert months_elapsed(start, on) == k
    expected = (fee * Decimal(max(0, n - k)) / Decimal(n)).quantize(Decimal("0.01"))
    assert loyalty_fee(fee, n, start, on) == expected
