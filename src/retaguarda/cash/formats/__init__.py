"""Bank file formats (pure parsers and writers; no I/O beyond the stream they are given).

Every reader yields `Line`s one at a time (files are streamed, memory stays flat) and raises
`FileFormatError(line_no, message)` naming the physical line it could not read.
`detect(head)` guesses the format from the first bytes: OFX (1.x SGML or 2.x XML), CNAB 240,
CNAB 400 or CSV.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO

FORMATS = ("ofx", "csv", "cnab240", "cnab400")


class FileFormatError(ValueError):
    """The file cannot be read; `line` is the 1-based physical line (0 when not known)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Line:
    """One movement as a bank file reports it. `amount` is positive; `kind` credit|debit."""

    line_no: int
    posted_on: date
    amount: Decimal
    kind: str
    source: str  # statement | return_file | api_pix | manual
    fitid: str = ""
    memo: str = ""
    name: str = ""
    payer_document: str = ""
    txid: str = ""
    e2eid: str = ""
    nosso_numero: str = ""
    seu_numero: str = ""
    posted_at: datetime | None = None
    fees: Decimal = Decimal("0.00")
    interest: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    credit_on: date | None = None
    occurrence: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "line_no": self.line_no,
            "posted_on": self.posted_on.isoformat(),
            "amount": str(self.amount),
            "kind": self.kind,
            "source": self.source,
            "fitid": self.fitid,
            "memo": self.memo,
            "name": self.name,
            "payer_document": self.payer_document,
            "txid": self.txid,
            "e2eid": self.e2eid,
            "nosso_numero": self.nosso_numero,
            "seu_numero": self.seu_numero,
            "fees": str(self.fees),
            "interest": str(self.interest),
            "discount": str(self.discount),
            "credit_on": self.credit_on.isoformat() if self.credit_on else None,
            "occurrence": self.occurrence,
        }


def detect(head: bytes) -> str:
    """The format of a file from its first bytes (at least the first two lines)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    upper = text[:4096].upper()
    if upper.startswith(b"OFXHEADER") or b"<OFX>" in upper or b"<?OFX" in upper:
        return "ofx"
    first = text.split(b"\n", 1)[0].rstrip(b"\r")
    if len(first) == 240 and first[7:8] == b"0":
        return "cnab240"
    if len(first) == 400 and first[:1] == b"0":
        return "cnab400"
    return "csv"


_TXID_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{22,35})(?![A-Za-z0-9])")
_E2E_RE = re.compile(r"(?<![A-Za-z0-9])([ED][0-9]{8}[0-9]{12}[A-Za-z0-9]{11})(?![A-Za-z0-9])")
_DOC_RE = re.compile(r"(?<![0-9])(\d{3}\.?\d{3}\.?\d{3}-?\d{2}|\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2})(?![0-9])")


_HAS_REF_RE = re.compile(r"[A-Za-z0-9]{22}|\d{3}\.?\d{3}\.?\d{3}-?\d{2}")


def references_in(*texts: str) -> dict[str, str]:
    """txid, e2eid and payer CPF/CNPJ (valid check digits) found in free text (MEMO, NAME)."""
    found: dict[str, str] = {}
    joined = " ".join(t for t in texts if t)
    if not _HAS_REF_RE.search(joined):
        return found  # most lines: no token long enough to be a reference
    from stdnum.br import cnpj, cpf

    m = _E2E_RE.search(joined)
    if m:
        found["e2eid"] = m.group(1)
    for cand in _TXID_RE.findall(joined):
        if cand == found.get("e2eid") or cand.isdigit():
            continue
        if any(c.isalpha() for c in cand) and any(c.isdigit() for c in cand):
            found["txid"] = cand
            break
    for cand in _DOC_RE.findall(joined):
        digits = re.sub(r"\D", "", cand)
        if (len(digits) == 11 and cpf.is_valid(digits)) or (len(digits) == 14 and cnpj.is_valid(digits)):
            found["payer_document"] = digits
            break
    return found


def read(stream: IO[bytes], fmt: str, *, mapping: dict[str, str] | None = None) -> Iterator[Line]:
    """Lines of `stream` in format `fmt` (see `detect`)."""
    if fmt == "ofx":
        from retaguarda.cash.formats.ofx import read_ofx

        return read_ofx(stream)
    if fmt == "csv":
        from retaguarda.cash.formats.csvfile import read_csv

        return read_csv(stream, mapping or {})
    if fmt == "cnab240":
        from retaguarda.cash.formats.cnab240 import read_retorno_240

        return read_retorno_240(stream)
    if fmt == "cnab400":
        from retaguarda.cash.formats.cnab400 import read_retorno_400

        return read_retorno_400(stream)
    raise FileFormatError(0, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
