"""Properties: beneficiary percents never exceed 100 after any sequence of changes; the portal's
floats become Decimals exact to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.energy.domain import ConsumerUnit, money_from_portal
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta

META = Meta(tenant_id="t", actor="u", correlation_id="c", at=datetime(2026, 12, 4, tzinfo=UTC))
PLANT = {
    "number": 1,
    "digit": 0,
    "company_code": 6,
    "address": "",
    "city": "",
    "klass": "",
    "active": True,
    "cut": False,
    "low_income": False,
    "is_generator": True,
    "generator_number": 1,
}

split = st.lists(
    st.fixed_dictionaries({"number": st.integers(2, 30), "percent": st.integers(-5, 110)}), max_size=8
)


@settings(max_examples=200, deadline=None)
@given(st.lists(split, max_size=12))
def test_percents_never_exceed_100_after_any_sequence(changes: list[list[dict[str, Any]]]) -> None:
    unit = ConsumerUnit.discover(META, "acc", PLANT)
    for items in changes:
        before = list(unit.beneficiaries)
        try:
            unit.set_beneficiaries(META, items)
        except ValidationError:
            assert unit.beneficiaries == before  # a refused split changes nothing
        assert unit.percent_total() <= 100
        assert all(isinstance(b["percent"], int) and 0 <= b["percent"] <= 100 for b in unit.beneficiaries)
        assert len({b["number"] for b in unit.beneficiaries}) == len(unit.beneficiaries)
    replayed = ConsumerUnit.discover(META, "acc", PLANT)
    for event in unit.collect_events()[1:]:
        event.mutate(replayed)
    assert replayed.beneficiaries == unit.beneficiaries


@settings(max_examples=500, deadline=None)
@given(st.integers(-9_999_999_999, 9_999_999_999))
def test_float_to_decimal_is_exact_to_the_cent(cents: int) -> None:
    value = cents / 100  # the float the portal's JSON carries for R$ cents/100
    assert money_from_portal(value) == Decimal(cents) / 100
    assert money_from_portal(value + 1e-9 * (1 if value >= 0 else -1)) == Decimal(cents).scaleb(-2)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False))
def test_any_portal_float_rounds_half_up_to_cents(value: float) -> None:
    amount = money_from_portal(value)
    assert amount.as_tuple().exponent == -2
    assert abs(amount - Decimal(repr(value))) <= Decimal("0.005")
