"""CSV statements with a column mapping the user saves per account (bank exports differ).

Mapping keys (values are header names of the file): `date`, and either `amount` (signed) or
`credit` + `debit`; optional `memo`, `name`, `document`, `id`. Options: `delimiter` (default:
sniffed among `;` `,` tab), `date_format` (default `%d/%m/%Y`, also ISO), `encoding` (default:
UTF-8 when valid, else latin-1). Amounts accept `1.234,56`, `1234.56`, `-10,00`, `R$ 10,00`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO

from retaguarda.cash.formats import FileFormatError, Line, references_in

COLUMN_KEYS = ("date", "amount", "credit", "debit", "memo", "name", "document", "id")
OPTION_KEYS = ("delimiter", "date_format", "encoding")


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """The mapping cleaned, or ValueError naming what is missing."""
    clean = {
        k: str(v).strip()
        for k, v in (mapping or {}).items()
        if k in COLUMN_KEYS + OPTION_KEYS and str(v or "").strip()
    }
    if "date" not in clean:
        raise ValueError("mapping.date: the date column is required")
    if "amount" not in clean and not ("credit" in clean or "debit" in clean):
        raise ValueError("mapping.amount: an amount column (or credit/debit columns) is required")
    return clean


def parse_amount(text: str, line: int, column: str) -> Decimal:
    raw = re.sub(r"[R$\s]", "", text or "")
    if not raw:
        return Decimal("0.00")
    negative = raw.endswith("-") or (raw.startswith("(") and raw.endswith(")")) or raw.endswith("D")
    raw = raw.strip("()-+DC") if negative else raw.rstrip("C").lstrip("+")
    if raw.startswith("-"):
        negative, raw = True, raw[1:]
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FileFormatError(line, f"column {column!r}: {text!r} is not an amount") from None
    return (-value if negative else value).quantize(Decimal("0.01"))


def parse_date(text: str, line: int, fmt: str) -> date:
    value = (text or "").strip()
    for f in (fmt, "%Y-%m-%d", "%d/%m/%y"):
        try:
            return datetime.strptime(value[:10] if f == "%Y-%m-%d" else value, f).date()
        except ValueError:
            continue
    raise FileFormatError(line, f"date {value!r} does not match {fmt}")


class _Rejoined(io.RawIOBase):
    """The bytes already read (`head`) followed by the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: "bytearray | memoryview") -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(b))
        b[: len(data)] = data
        return len(data)


def read_csv(stream: IO[bytes], mapping: dict[str, str]) -> Iterator[Line]:
    try:
        m = check_mapping(mapping)
    except ValueError as exc:
        raise FileFormatError(0, str(exc)) from None
    head = stream.read(65536)
    encoding = m.get("encoding") or "utf-8"
    if "encoding" not in m:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                encoding = "latin-1"
    first = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    delimiter = m.get("delimiter", "")
    if delimiter == "\\t":
        delimiter = "\t"
    if not delimiter:
        header_line = first.split("\n", 1)[0]
        delimiter = max((";", ",", "\t"), key=header_line.count)
    text = io.TextIOWrapper(
        io.BufferedReader(_Rejoined(head, stream)),
        encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding,
        errors="replace",
        newline="",
    )
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise FileFormatError(1, "the file is empty") from None
    except csv.Error as exc:
        raise FileFormatError(1, f"unreadable CSV: {exc}") from None
    index = {}
    for key in COLUMN_KEYS:
        if key in m:
            if m[key] not in header:
                raise FileFormatError(1, f"column {m[key]!r} (mapping.{key}) is not in the header")
            index[key] = header.index(m[key])
    fmt = m.get("date_format", "%d/%m/%Y")
    line_no = 1
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise FileFormatError(line_no, f"{len(row)} columns, the header has {len(header)}")

            def cell(key: str, row: list[str] = row) -> str:
                return row[index[key]].strip() if key in index else ""

            if "amount" in index:
                amount = parse_amount(cell("amount"), line_no, m["amount"])
            else:
                credit = parse_amount(cell("credit"), line_no, m.get("credit", ""))
                debit = parse_amount(cell("debit"), line_no, m.get("debit", ""))
                amount = abs(credit) - abs(debit)
            if amount == 0:
                continue
            memo, name = cell("memo"), cell("name")
            refs = references_in(memo, name, cell("id"))
            document = re.sub(r"\D", "", cell("document")) or refs.get("payer_document", "")
            yield Line(
                line_no=line_no,
                posted_on=parse_date(cell("date"), line_no, fmt),
                amount=abs(amount),
                kind="debit" if amount < 0 else "credit",
                source="statement",
                fitid=cell("id")[:255],
                memo=memo[:255],
                name=name[:120],
                payer_document=document,
                txid=refs.get("txid", ""),
                e2eid=refs.get("e2eid", ""),
            )
    except csv.Error as exc:
        raise FileFormatError(line_no + 1, f"unreadable CSV: {exc}") from None
