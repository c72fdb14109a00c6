"""Money rules: late charges and payment splits always balance to the cent (property tests)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.billing.money import LateTerms, amount_due, cents, period_at, split_payment

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
days = st.integers(min_value=-40, max_value=400)
TERMS = LateTerms()
DUE = date(2026, 11, 10)


@given(amount=amounts, outstanding=amounts, late=days)
def test_a_payment_splits_into_principal_charges_and_excess_exactly(amount, outstanding, late):
    s = split_payment(amount, outstanding, DUE, DUE + timedelta(days=late), TERMS)
    assert s.principal + s.fine + s.interest + s.excess == amount
    assert Decimal(0) <= s.principal <= outstanding
    assert min(s.fine, s.interest, s.excess) >= 0
    if late <= 0:
        assert s.fine == s.interest == 0
    if s.excess > 0:
        assert s.principal == outstanding


@settings(max_examples=200)
@given(total=amounts, parts=st.lists(amounts, min_size=1, max_size=6), late=days)
def test_partial_payments_never_overshoot_and_the_last_cent_settles(total, parts, late):
    on = DUE + timedelta(days=late)
    outstanding, received, kept, credit = total, Decimal(0), Decimal(0), Decimal(0)
    for p in parts:
        s = split_payment(p, outstanding, DUE, on, TERMS)
        outstanding -= s.principal
        received += p
        kept += s.principal + s.fine + s.interest
        credit += s.excess
        assert outstanding >= 0
    assert received == kept + credit
    if outstanding > 0:
        final = amount_due(outstanding, DUE, on, TERMS)
        assert split_payment(final, outstanding, DUE, on, TERMS).principal == outstanding


def test_fine_two_percent_and_interest_one_percent_a_month_pro_rata_die_half_even():
    # 15 days late on 100.00: fine 2.00, interest 0.50
    s = split_payment(Decimal("102.50"), Decimal("100.00"), DUE, DUE + timedelta(days=15), TERMS)
    assert (s.principal, s.fine, s.interest, s.excess) == (Decimal("100.00"), Decimal("2.00"), Decimal("0.50"), 0)
    assert cents(Decimal("0.125")) == Decimal("0.12") and cents(Decimal("0.135")) == Decimal("0.14")


def test_first_period_is_pro_rated_and_later_ones_align_on_the_due_day():
    first = period_at(date(2026, 11, 20), 10, "monthly", date(2026, 11, 20))
    assert (first.start, first.end, first.factor) == (date(2026, 11, 20), date(2026, 12, 9),
                                                      Decimal(20) / Decimal(30))
    nxt = period_at(date(2026, 11, 20), 10, "quarterly", date(2026, 12, 10))
    assert (nxt.end, nxt.due_date, nxt.full) == (date(2027, 3, 9), date(2026, 12, 10), True)


@settings(max_examples=200)
@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), due_day=st.integers(1, 28),
       cycle=st.sampled_from(["monthly", "bimonthly", "quarterly", "semiannual", "annual"]),
       later=st.integers(0, 1200))
def test_the_period_containing_a_day_contains_it_and_follows_the_billed_sequence(start, due_day, cycle, later):
    from retaguarda.billing.money import period_containing

    on = start + timedelta(days=later)
    period = period_containing(start, due_day, cycle, on)
    assert period.start <= on <= period.end
    # Walking the periods from the start, as generation does, reaches the same one
    walk = period_at(start, due_day, cycle, start)
    while walk.end < on:
        walk = period_at(start, due_day, cycle, walk.end + timedelta(days=1))
    assert walk == period


@settings(max_examples=200)
@given(amount=amounts, start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
       due_day=st.integers(1, 28), split=st.integers(0, 400))
def test_the_shares_of_a_period_split_at_any_day_add_up_to_its_amount_within_a_cent(amount, start, due_day, split):
    from retaguarda.billing.money import share

    period = period_at(start, due_day, "monthly", max(start, start.replace(day=due_day)))
    day = min(period.start + timedelta(days=split % ((period.end - period.start).days + 1)), period.end)
    used = share(amount, period, period.start, day)
    unused = share(amount, period, day + timedelta(days=1), period.end)
    assert used >= 0 and unused >= 0 and abs(used + unused - amount) <= Decimal("0.01")
    assert share(amount, period, period.start, period.end) == amount
