"""Fixed-width records (CNAB): 1-based inclusive positions, numbers zero-filled to the right,
text blank-filled to the left, ASCII only (accents stripped), dates DDMMAAAA / DDMMAA."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from retaguarda.cash.formats import FileFormatError


def ascii_text(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return "".join(ch if 32 <= ord(ch) < 127 else " " for ch in folded).upper()


class Record:
    """A record being written: `put(1, 3, "001")`; `str(record)` is exactly `size` characters."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._chars = [" "] * size

    def put(self, start: int, end: int, value: object, *, numeric: bool = False) -> Record:
        width = end - start + 1
        if numeric:
            text = str(value if value is not None else 0)
            if not text.isdigit():
                raise ValueError(f"positions {start}-{end}: {text!r} is not a number")
            if len(text) > width:
                raise ValueError(f"positions {start}-{end}: {text!r} does not fit in {width} digits")
            text = text.rjust(width, "0")
        else:
            text = ascii_text(str(value or ""))[:width].ljust(width)
        self._chars[start - 1 : end] = list(text)
        return self

    def money(self, start: int, end: int, value: Decimal) -> Record:
        cents = int((Decimal(value) * 100).quantize(Decimal("1")))
        if cents < 0:
            raise ValueError(f"positions {start}-{end}: negative amount")
        return self.put(start, end, cents, numeric=True)

    def day(self, start: int, end: int, value: date | None) -> Record:
        width = end - start + 1
        if value is None:
            return self.put(start, end, 0, numeric=True)
        text = value.strftime("%d%m%Y" if width == 8 else "%d%m%y")
        return self.put(start, end, text, numeric=True)

    def __str__(self) -> str:
        return "".join(self._chars)


class Fields:
    """Reading one record: `f.text(38, 57)`, `f.money(78, 92)`, `f.day(146, 153)`."""

    def __init__(self, raw: str, line: int) -> None:
        self.raw = raw
        self.line = line

    def text(self, start: int, end: int) -> str:
        return self.raw[start - 1 : end].strip()

    def digits(self, start: int, end: int, what: str) -> str:
        value = self.raw[start - 1 : end]
        if value.strip() and not value.strip().isdigit():
            raise FileFormatError(self.line, f"{what} (positions {start}-{end}) is not numeric: {value!r}")
        return value.strip()

    def money(self, start: int, end: int, what: str) -> Decimal:
        value = self.digits(start, end, what)
        return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))

    def day(self, start: int, end: int, what: str) -> date | None:
        value = self.digits(start, end, what)
        if not value or int(value) == 0:
            return None
        try:
            if len(value) == 8:
                return date(int(value[4:8]), int(value[2:4]), int(value[0:2]))
            return date(2000 + int(value[4:6]), int(value[2:4]), int(value[0:2]))
        except ValueError:
            raise FileFormatError(
                self.line, f"{what} (positions {start}-{end}) is not a date: {value!r}"
            ) from None


def records(stream: Iterator[bytes], size: int) -> Iterator[tuple[int, str]]:
    """(line number, record) of a CNAB file; refuses lines of another length."""
    line_no = 0
    for raw in stream:
        line_no += 1
        text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        if text.startswith("\x1a"):  # DOS end-of-file marker
            break
        if len(text) != size:
            raise FileFormatError(line_no, f"record has {len(text)} characters, CNAB {size} needs {size}")
        yield line_no, text
