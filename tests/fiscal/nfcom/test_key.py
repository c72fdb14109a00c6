"""The NFCom access key: composition, mod-11 DV (MOC worked example) and round trips."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.fiscal.nfcom.key import (
    UF_CODES,
    AccessKeyError,
    check_digit,
    compose,
    is_valid,
    parse,
    random_code,
)


def test_the_manuals_worked_example_sums_644_and_gives_dv_5():
    # MOC §7.3 example: weighted sum 644, 644 mod 11 = 6, DV = 11 - 6 = 5
    body = "5206043300991100250655012000000780026730161"
    total = sum(int(d) * w for d, w in zip(reversed(body), [2, 3, 4, 5, 6, 7, 8, 9] * 6, strict=False))
    assert total == 644
    assert check_digit(body) == 5


def _remainder(body: str) -> int:
    return sum(int(d) * w for d, w in zip(reversed(body), [2, 3, 4, 5, 6, 7, 8, 9] * 6, strict=False)) % 11


def test_remainders_zero_and_one_give_dv_zero():
    assert _remainder("0" * 43) == 0 and check_digit("0" * 43) == 0
    body = "0" * 41 + "40"  # 4 x weight 3 = 12 -> remainder 1
    assert _remainder(body) == 1 and check_digit(body) == 0
    body = "0" * 42 + "1"  # remainder 2 -> DV 9
    assert check_digit(body) == 9


def test_a_composed_key_has_each_part_where_the_manual_puts_it():
    key = compose(
        uf="SP",
        issued_on=date(2026, 12, 4),
        cnpj="11222333000181",
        series=1,
        number=42,
        random_code="4829173",
    )
    assert len(key) == 44 and key.isdigit()
    assert key[0:2] == "35" and key[2:6] == "2612" and key[6:20] == "11222333000181"
    assert key[20:22] == "62" and key[22:25] == "001" and key[25:34] == "000000042"
    assert key[34] == "1" and key[35] == "0" and key[36:43] == "4829173"
    assert is_valid(key)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"uf": "XX"}, "UF"),
        ({"cnpj": "123"}, "CNPJ"),
        ({"series": 1000}, "series"),
        ({"number": 0}, "number"),
        ({"random_code": "12"}, "random code"),
        ({"emission_type": 3}, "emission"),
    ],
)
def test_out_of_range_parts_are_refused_by_name(kwargs, message):
    args = {
        "uf": "SP",
        "issued_on": date(2026, 12, 4),
        "cnpj": "11222333000181",
        "series": 1,
        "number": 1,
        "random_code": "1234568",
        **kwargs,
    }
    with pytest.raises(AccessKeyError, match=message):
        compose(**args)


keys = st.builds(
    lambda uf, y, m, cnpj, series, number, tp, site, code: compose(
        uf=uf,
        issued_on=date(y, m, 1),
        cnpj=cnpj,
        series=series,
        number=number,
        random_code=code,
        emission_type=tp,
        site=site,
    ),
    st.sampled_from(sorted(UF_CODES)),
    st.integers(2022, 2099),
    st.integers(1, 12),
    st.from_regex(r"\A\d{14}\Z"),
    st.integers(0, 999),
    st.integers(1, 999_999_999),
    st.sampled_from([1, 2]),
    st.integers(0, 9),
    st.from_regex(r"\A\d{7}\Z"),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(keys)
def test_every_composed_key_is_valid_and_parses_back(key):
    assert is_valid(key)
    parts = parse(key)
    assert parts.model == "62" and parts.check_digit == int(key[43])
    assert (
        compose(
            uf=parts.uf_code,
            issued_on=date(2000 + int(parts.year_month[:2]), int(parts.year_month[2:]), 1),
            cnpj=parts.cnpj,
            series=parts.series,
            number=parts.number,
            random_code=parts.random_code,
            emission_type=parts.emission_type,
            site=parts.site,
        )
        == key
    )


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(keys, st.integers(0, 42), st.integers(1, 9))
def test_changing_any_single_digit_breaks_the_check(key, position, delta):
    digit = (int(key[position]) + delta) % 10
    altered = key[:position] + str(digit) + key[position + 1 :]
    # weights 2..9 and 11 prime: one changed digit always changes the remainder; only a move
    # between remainders 0 and 1 (both DV 0) goes unnoticed, as the manual's rule implies
    assert _remainder(altered[:43]) != _remainder(key[:43])
    if {_remainder(altered[:43]), _remainder(key[:43])} != {0, 1}:
        assert not is_valid(altered)
        with pytest.raises(AccessKeyError):
            parse(altered)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(1, 999_999_999))
def test_random_codes_have_seven_digits_and_avoid_the_number(number):
    code = random_code(number)
    assert len(code) == 7 and code.isdigit() and int(code) != number % 10_000_000
    assert len(set(code)) > 1
