"""Tax preview: Decimal only, half-even cents, properties over random amounts."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retaguarda.fiscal.taxes import compute_taxes

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2,
                    allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=Decimal("0"), max_value=Decimal("5.00"), places=2)


@given(amount=money, ded_share=st.integers(0, 100), iss_rate=rate, withheld=st.booleans(),
       cbs=rate, ibs_uf=rate, ibs_mun=rate)
def test_taxes_are_cents_and_consistent(amount, ded_share, iss_rate, withheld, cbs, ibs_uf, ibs_mun):
    deductions = (amount * ded_share / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    t = compute_taxes(amount, deductions, iss_rate, withheld, cbs, ibs_uf, ibs_mun)
    for key, value in t.items():
        assert isinstance(value, Decimal), key
        if not key.endswith("_rate"):
            assert value == value.quantize(Decimal("0.01")), key
            assert value >= 0, key
    assert t["iss_base"] == amount - deductions
    assert t["iss"] == (t["iss_base"] * iss_rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert t["net"] + t["iss_withheld_value"] == amount
    assert t["iss_withheld_value"] == (t["iss"] if withheld else 0)
    assert t["ibs"] == t["ibs_uf"] + t["ibs_mun"]
    assert t["ibscbs_total"] == t["cbs"] + t["ibs"]
    assert t["ibscbs_base"] == amount - t["iss"]


def test_2026_defaults_on_a_round_amount():
    t = compute_taxes(Decimal("1000.00"), Decimal("0"), Decimal("2.00"), True)
    assert (t["iss"], t["net"], t["ibscbs_base"]) == (Decimal("20.00"), Decimal("980.00"), Decimal("980.00"))
    assert (t["cbs"], t["ibs_uf"], t["ibs"]) == (Decimal("8.82"), Decimal("0.98"), Decimal("0.98"))


def test_half_even_rounding():
    # 0.125 -> 0.12 (even), 0.135 -> 0.14
    assert compute_taxes(Decimal("6.25"), Decimal("0"), Decimal("2.00"))["iss"] == Decimal("0.12")
    assert compute_taxes(Decimal("6.75"), Decimal("0"), Decimal("2.00"))["iss"] == Decimal("0.14")


def test_float_and_negative_values_are_refused():
    with pytest.raises(TypeError):
        compute_taxes(100.0, Decimal("0"), Decimal("2"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        compute_taxes(Decimal("-1"), Decimal("0"), Decimal("2"))
    with pytest.raises(ValueError):
        compute_taxes(Decimal("10"), Decimal("11"), Decimal("2"))
