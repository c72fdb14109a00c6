"""The one rule for cells of every CSV/XLSX export: text never becomes a live formula.

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` (and, through some
importers, one starting with a tab or carriage return) as a formula, so a customer named
`=cmd|' /C calc'!A0` would run on the accountant's machine. Such text is written with a leading
apostrophe (`'=cmd…`), which every spreadsheet shows as plain text (OWASP "CSV injection").
Numbers, dates and Decimals are left as they are (they are values, not text), and so is text that
is only a number (`-1.234,56`, a Brazilian-formatted negative amount): it cannot run anything, and
an apostrophe would turn the amount into text the spreadsheet no longer sums.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.,]*")


def safe_cell(value: Any) -> Any:
    """`value` itself, or text prefixed with `'` when it would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class SafeCsvWriter:
    """`csv.writer` whose every row goes through `safe_row`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)


def append_row(sheet: Any, row: Iterable[Any]) -> None:
    """`sheet.append(row)` for an openpyxl worksheet, cells neutralised (openpyxl stores any text
    starting with `=` as a formula)."""
    sheet.append(safe_row(row))


__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "append_row", "csv_writer", "safe_cell", "safe_row"]
