"""Brazilian formats and typed input: money and dates round-trip; locale negotiation; catalogs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retaguarda.i18n import (
    format_date,
    format_datetime,
    format_money,
    format_percent,
    format_values,
    gettext,
    label,
    negotiate,
    ngettext,
    parse_date,
    parse_money,
    use_locale,
)

cents = st.integers(min_value=-10**13, max_value=10**13).map(lambda n: Decimal(n).scaleb(-2))


@given(cents)
def test_money_format_then_parse_round_trips(amount: Decimal) -> None:
    shown = format_money(amount)
    assert shown.startswith("-R$\xa0" if amount < 0 else "R$\xa0")
    assert parse_money(shown) == amount
    assert parse_money(format_money(amount, currency=False)) == amount


@pytest.mark.parametrize(("value", "shown"), [
    ("0", "R$\xa00,00"), ("1234.56", "R$\xa01.234,56"), ("-1234.5", "-R$\xa01.234,50"),
    ("1234567.89", "R$\xa01.234.567,89"), (Decimal("999999999.99"), "R$\xa0999.999.999,99"),
])
def test_money_looks_brazilian(value: object, shown: str) -> None:
    assert format_money(value) == shown


@pytest.mark.parametrize(("typed", "amount"), [
    ("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("1234.56", "1234.56"), ("R$ 1.500,00", "1500.00"),
    ("1.500", "1500"), ("0,5", "0.5"), ("-10,00", "-10.00"), ("1.234.567,89", "1234567.89"),
])
def test_money_is_read_as_people_type_it(typed: str, amount: str) -> None:
    assert parse_money(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3", "1.23.4,00", "12,345", "NaN", "Infinity", "1.2345,00"])
def test_money_that_cannot_be_read_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_money(typed)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_dates_round_trip(day: date) -> None:
    shown = format_date(day)
    assert len(shown) == 10 and shown[2] == "/" and shown[5] == "/"
    assert parse_date(shown) == day
    assert parse_date(day.isoformat()) == day


@pytest.mark.parametrize("typed", ["31/02/2026", "1/1/26", "aa/bb/cccc", "2026/12/04", "04-12-2026x"])
def test_bad_dates_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_date(typed)


def test_instants_are_shown_in_the_tenant_zone() -> None:
    assert format_datetime(datetime(2026, 12, 4, 13, 30, tzinfo=UTC)) == "04/12/2026 10:30"
    assert format_datetime("2026-12-04T13:30:00+00:00") == "04/12/2026 10:30"
    assert format_percent("12.5") == "12,5\xa0%"


def test_values_in_summaries_are_brazilian_but_identifiers_and_xml_untouched() -> None:
    text = "due_date=2026-12-11, total=1234.50, key=abc:2026-12-10, <x versao=\"1.01\">"
    assert format_values(text) == "due_date=11/12/2026, total=1.234,50, key=abc:2026-12-10, <x versao=\"1.01\">"


def test_accept_language_negotiation() -> None:
    assert negotiate("pt-BR,pt;q=0.9,en;q=0.8") == "pt_BR"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR") == "pt_BR"
    assert negotiate(None) == "pt_BR"
    assert negotiate("de, en;q=0.2, pt;q=0.1") == "en"
    assert negotiate("fr", default="en") == "en"


def test_gettext_follows_the_current_locale() -> None:
    with use_locale("pt_BR"):
        assert gettext("Customers") == "Clientes"
        assert gettext("Page %(page)s of %(pages)s", page=2, pages=5) == "Página 2 de 5"
        assert ngettext("%(num)s customer", "%(num)s customers", 1) == "1 cliente"
        assert ngettext("%(num)s customer", "%(num)s customers", 3) == "3 clientes"
        assert label("overdue") == "Vencida" and label("in_progress") == "Em andamento"
    with use_locale("en"):
        assert gettext("Customers") == "Customers"
        assert label("overdue") == "Overdue"
