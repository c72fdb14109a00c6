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
