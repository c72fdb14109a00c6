"""E.164 normalisation of the numbers WordPress sends (Brazil by default)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retaguarda.campaigns.phones import InvalidPhoneError, is_mobile, mask_phone, normalize_phone


@pytest.mark.parametrize("raw", ["(11) 98765-4321", "11987654321", "11 9 8765 4321", "5511987654321",
                                 "+55 11 98765-4321", "+55 (11) 98765-4321", "005511987654321",
                                 "0xx11 98765-4321", "0 21 11 98765-4321", " 011 98765 4321 "])
def test_the_many_ways_of_writing_a_brazilian_mobile_become_one(raw: str) -> None:
    assert normalize_phone(raw) == "+5511987654321"


def test_other_countries_keep_their_code() -> None:
    assert normalize_phone("+1 650 253 0000") == "+16502530000"
    assert normalize_phone("6502530000", region="US") == "+16502530000"


@pytest.mark.parametrize("raw", ["", None, "abc", "123", "+55 11 1234", "(00) 98765-4321"])
def test_garbage_is_invalid(raw: str | None) -> None:
    with pytest.raises(InvalidPhoneError) as caught:
        normalize_phone(raw)
    assert caught.value.reason == "invalid"


def test_landlines_are_valid_but_not_for_sms() -> None:
    assert normalize_phone("(11) 3456-7890") == "+551134567890"
    with pytest.raises(InvalidPhoneError) as caught:
        normalize_phone("(11) 3456-7890", mobile_only=True)
    assert caught.value.reason == "landline"
    assert not is_mobile("+551134567890") and is_mobile("+5511987654321")


def test_masking_keeps_country_area_and_last_digits() -> None:
    assert mask_phone("+5511987654321") == "+55119****4321"
    assert mask_phone(None) == ""


DDDS = [11, 12, 19, 21, 27, 31, 41, 47, 51, 61, 62, 71, 81, 85, 91, 92, 98]


@given(ddd=st.sampled_from(DDDS), number=st.integers(min_value=0, max_value=99_999_999),
       style=st.sampled_from(["({d}) 9{a}-{b}", "{d}9{a}{b}", "55{d}9{a}{b}", "+55 {d} 9{a} {b}", "0{d} 9{a}-{b}"]))
def test_any_formatting_of_a_mobile_normalises_to_the_same_e164(ddd: int, number: int, style: str) -> None:
    digits = f"{number:08d}"
    raw = style.format(d=ddd, a=digits[:4], b=digits[4:])
    try:
        e164 = normalize_phone(raw)
    except InvalidPhoneError:
        # phonenumbers' metadata rejects some ranges; then every spelling must be rejected alike
        with pytest.raises(InvalidPhoneError):
            normalize_phone(f"+55{ddd}9{digits}")
        return
    assert e164 == f"+55{ddd}9{digits}"
    assert normalize_phone(e164) == e164
