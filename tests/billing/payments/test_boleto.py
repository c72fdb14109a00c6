"""Boleto: FEBRABAN check digits, the due-date factor and its 2025 reset, barcode ↔ linha."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.billing.boleto import (
    barcode_from_digitable_line,
    date_from_factor,
    decode_itf_pattern,
    digitable_line_from_barcode,
    due_factor,
    format_digitable_line,
    free_field_for,
    itf_pattern,
    make_boleto,
    mod10,
    mod11_boleto,
    our_number_for,
    parse_barcode,
    parse_digitable_line,
    verify_digitable_line,
)

# Reference section 6.5 vector 1 (mrmgomes/boleto-utils test.js): Caixa (104), R$ 214,03, factor 8981.
CAIXA_BARCODE = "10499898100000214032006561000100040099726390"
CAIXA_LINE = "10492006506100010004200997263900989810000021403"
TODAY = date(2026, 11, 23)


def test_reference_vector_converts_both_ways_and_verifies():
    assert digitable_line_from_barcode(CAIXA_BARCODE) == CAIXA_LINE
    assert barcode_from_digitable_line(CAIXA_LINE) == CAIXA_BARCODE
    assert format_digitable_line(CAIXA_LINE) == "10492.00650 61000.100042 00997.263900 9 89810000021403"
    boleto = parse_digitable_line("10492.00650 61000.100042 00997.263900 9 89810000021403", TODAY)
    assert boleto.barcode == CAIXA_BARCODE
    assert boleto.amount == Decimal("214.03")
    assert boleto.bank_code == "104" and boleto.factor == 8981
    # 8981 is 2022-05-10 in the first cycle and 2046-12-30 in the second: today picks the first.
    assert boleto.due_date == date(2022, 5, 10)
    assert parse_barcode(CAIXA_BARCODE, date(2046, 12, 1)).due_date == date(2046, 12, 30)


def test_check_digit_rules():
    # mod 10: weights 2,1 from the right with digit sums ("10492006" + "5" is field 1 of the vector).
    assert mod10("104920065") == 0
    assert mod10("6100010004") == 2 and mod10("0099726390") == 0  # fields 2 and 3 of the vector
    assert mod10("0") == 0
    # mod 11 never yields 0: results 0, 10, 11 become 1.
    for digits in ("0" * 43, "1" * 43, "9" * 43):
        assert 1 <= mod11_boleto(digits) <= 9
    assert mod11_boleto(CAIXA_BARCODE[:4] + CAIXA_BARCODE[5:]) == int(CAIXA_BARCODE[4])


@pytest.mark.parametrize(("day", "factor"), [
    (date(2000, 7, 3), 1000), (date(2000, 7, 4), 1001), (date(2010, 11, 17), 4789), (date(2025, 2, 21), 9999),
    (date(2025, 2, 22), 1000), (date(2025, 2, 23), 1001), (date(2026, 11, 23), 1639), (date(2049, 10, 13),
                                                                                       9999),
    (date(2049, 10, 14), 1000),
])
def test_due_factor_including_the_2025_reset(day, factor):
    assert due_factor(day) == factor


def test_factor_decoding_picks_the_cycle_nearest_today():
    assert date_from_factor(9999, date(2025, 3, 1)) == date(2025, 2, 21)
    assert date_from_factor(1000, date(2025, 3, 1)) == date(2025, 2, 22)
    assert date_from_factor(1000, date(2001, 1, 1)) == date(2000, 7, 3)
    assert date_from_factor(1639, TODAY) == TODAY
    with pytest.raises(ValueError):
        date_from_factor(10000, TODAY)


@given(st.dates(min_value=date(2000, 7, 3), max_value=date(2049, 10, 13)))
def test_factor_round_trips_for_dates_within_a_few_years_of_today(day):
    assert 1000 <= due_factor(day) <= 9999
    today = day + timedelta(days=400)
    assert date_from_factor(due_factor(day), today) == day


def test_banco_do_brasil_convenio_7_free_field():
    agreement = {"convenio": "1234567", "carteira": "18"}
    free = free_field_for(agreement, 42)
    assert free == "0000001234567000000004218"
    assert len(free) == 25
    assert our_number_for(agreement, 42) == "12345670000000042"
    for bad in ({"convenio": "123", "carteira": "18"}, {"convenio": "1234567", "carteira": "1"},
                {"layout": "itau", "convenio": "1234567", "carteira": "18"}):
        with pytest.raises(ValueError):
            free_field_for(bad, 42)
    with pytest.raises(ValueError):
        free_field_for(agreement, 10**10)


def test_make_boleto_for_a_tenant_agreement():
    boleto = make_boleto(bank_code="001", due_date=date(2026, 12, 10), amount=Decimal("129.90"),
                         free_field=free_field_for({"convenio": "1234567", "carteira": "18"}, 42))
    assert boleto.barcode == "00191165600000129900000001234567000000004218"
    assert len(boleto.digitable_line) == 47
    verify_digitable_line(boleto.digitable_line)
    assert parse_digitable_line(boleto.digitable_line, TODAY) == boleto
    assert boleto.amount == Decimal("129.90") and str(boleto.amount) == "129.90"


@pytest.mark.parametrize("kwargs", [
    {"bank_code": "01"}, {"bank_code": "838"}, {"currency": "5"}, {"free_field": "1" * 24},
    {"amount": Decimal("-1")},
    {"amount": Decimal("100000000.00")},
])
def test_make_boleto_refuses_bad_input(kwargs):
    args = {"bank_code": "001", "due_date": TODAY, "amount": Decimal("1"), "free_field": "0" * 25} | kwargs
    with pytest.raises(ValueError):
        make_boleto(**args)


def test_wrong_lengths_and_arrecadacao_codes_are_refused():
    with pytest.raises(ValueError, match="47 digits"):
        parse_digitable_line(CAIXA_LINE[:-1])
    with pytest.raises(ValueError, match="arrecada"):
        parse_barcode("83860000005096000190000008017823000034306271")


_boletos = st.builds(
    make_boleto,
    bank_code=st.from_regex(r"[0-79][0-9]{2}", fullmatch=True),
    due_date=st.one_of(st.none(), st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))),
    amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2),
    free_field=st.from_regex(r"[0-9]{25}", fullmatch=True),
)


@settings(max_examples=100, deadline=None)
@given(_boletos)
def test_every_boleto_round_trips_and_its_check_digits_verify(boleto):
    line = boleto.digitable_line
    assert len(line) == 47 and len(boleto.barcode) == 44
    verify_digitable_line(line)
    back = parse_digitable_line(format_digitable_line(line), today=date(2027, 6, 1))
    assert back.barcode == boleto.barcode
    assert back.amount == boleto.amount
    assert back.due_date == boleto.due_date


@settings(max_examples=100, deadline=None)
@given(_boletos, st.integers(min_value=0, max_value=31), st.integers(min_value=1, max_value=9))
def test_a_single_wrong_digit_in_the_first_three_fields_is_detected(boleto, pos, delta):
    line = boleto.digitable_line
    typo = line[:pos] + str((int(line[pos]) + delta) % 10) + line[pos + 1:]
    with pytest.raises(ValueError, match="check digit"):
        verify_digitable_line(typo)


@given(st.from_regex(r"[0-9]{44}", fullmatch=True))
def test_itf_pattern_decodes_back(digits):
    pattern = itf_pattern(digits)
    assert pattern.startswith("nnnn") and pattern.endswith("wnn")
    assert decode_itf_pattern(pattern) == digits
    # Every digit has exactly two wide elements of five.
    body = pattern[4:-3]
    assert body.count("w") == 2 * len(digits)


# Reference section 7.4 vector 1 (energy, value id 8 → mod 11, R$ 509,60).
ENERGY_BARCODE = "83860000005096000190000008017823000034306271"
ENERGY_LINE = "838600000050096000190009000801782309000343062712"


def test_arrecadacao_vector_and_its_own_check_digit_rules():
    from retaguarda.billing.boleto import arrecadacao_line_from_barcode, mod11_arrecadacao, parse_arrecadacao

    # FEBRABAN v06 example: 01230067896 → DV 0 by mod 11, 3 by mod 10.
    assert mod11_arrecadacao("01230067896") == 0 and mod10("01230067896") == 3
    assert arrecadacao_line_from_barcode(ENERGY_BARCODE) == ENERGY_LINE
    parsed = parse_arrecadacao("83860000005-0 09600019000-9 00080178230-9 00034306271-2")
    assert parsed["barcode"] == ENERGY_BARCODE and parsed["amount"] == Decimal("509.60")
    assert parsed["segment"] == "3" and parsed["value_id"] == "8"
    assert parse_arrecadacao(ENERGY_BARCODE)["digitable_line"] == ENERGY_LINE
    for bad in (ENERGY_LINE[:11] + "9" + ENERGY_LINE[12:], ENERGY_BARCODE[:3] + "0" + ENERGY_BARCODE[4:],
                CAIXA_BARCODE):
        with pytest.raises(ValueError):
            parse_arrecadacao(bad)
