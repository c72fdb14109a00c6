"""Defect 3 (#20): no CSV/XLSX export carries a live formula, whatever the data says."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from retaguarda.shared.exports import csv_writer, safe_cell

EVIL = ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0")


@pytest.mark.parametrize("text", EVIL)
def test_text_that_would_start_a_formula_gets_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme", "1+1", "", "'=already", 5, -3, None])
def test_other_values_are_left_alone(value: Any) -> None:
    assert safe_cell(value) == value


def test_the_csv_writer_neutralises_every_cell() -> None:
    out = io.StringIO()
    csv_writer(out).writerows([["=1+1", "ok"], ["@x", 2]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "ok"], ["'@x", "2"]]


@pytest.mark.parametrize("number", ["-1.234,56", "-12.50", "+3", "-0,01"])
def test_text_that_is_only_a_number_stays_a_number(number: str) -> None:
    # a Brazilian-formatted negative balance cannot run anything; an apostrophe would make it text
    assert safe_cell(number) == number


def _xlsx_values(data: bytes) -> list[Any]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def test_the_cash_book_exports_neutralise_an_account_named_like_a_formula() -> None:
    from datetime import date
    from decimal import Decimal

    from retaguarda.cash.book import to_csv, to_xlsx

    book = {"accounts": [{"name": "=1+1", "days": [{"date": date(2026, 12, 1), "credits": Decimal("0"),
                                                     "debits": Decimal("5"), "balance": Decimal("-5")}]}],
            "reconciliation": {}}
    rows = list(csv.reader(io.StringIO(to_csv(book).decode("utf-8-sig")), delimiter=";"))
    assert rows[1] == ["'=1+1", "01/12/2026", "0,00", "5,00", "-5,00"]
    values = _xlsx_values(to_xlsx(book))
    assert "'=1+1" in values and "=1+1" not in values


def test_the_nfcom_book_exports_neutralise_a_subscriber_named_like_a_formula() -> None:
    from retaguarda.fiscal.nfcom.book import COLUMNS, MONEY_KEYS, to_csv, to_xlsx

    item = {key: "1.00" if key in MONEY_KEYS else "" for key, _ in COLUMNS}
    item.update(customer_name="=1+1", status="authorized", authorized_at=None, number=1)
    doc = {"competence": "2026-12", "items": [item], "count": 1, "cancelled": 0,
           "totals": {key: "1.00" for key in MONEY_KEYS}}
    text = to_csv(doc).decode("utf-8-sig")
    assert "'=1+1" in text and ";=1+1" not in text
    values = _xlsx_values(to_xlsx(doc))
    assert "'=1+1" in values and "=1+1" not in values


@pytest.mark.parametrize("amount", ["1e30", "9" * 40, "1000000000000"])
def test_a_cash_account_opening_balance_has_a_maximum(amount: str) -> None:
    from retaguarda.cash.domain import _money
    from retaguarda.shared.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        _money(amount, "opening_balance")
    assert err.value.field == "opening_balance"
