"""CNAB 400 retorno (bank-proprietary layouts): Banco do Brasil CBR643 (convênio 7, detail type 7),
Bradesco (237) and Itaú (341), detail type 1. Settled titles become credit `Line`s.

Itaú 10 ("baixa because paid", also a boleto paid through its Pix QR) counts as a settlement;
Itaú 95 and Santander-style "baixa operacional" do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from retaguarda.cash.formats import FileFormatError, Line
from retaguarda.cash.formats.fixed import Fields, records

Span = tuple[int, int]


@dataclass(frozen=True)
class Layout:
    """Where one bank puts the fields of a detail record (1-based, inclusive)."""

    detail_type: str
    nn: Span
    company: Span
    credit: Span
    fee: Span
    settled: frozenset[str]


_LAYOUT: dict[str, Layout] = {
    "001": Layout("7", (64, 80), (39, 63), (176, 181), (182, 188), frozenset({"05", "06", "07", "08", "15"})),
    "237": Layout("1", (71, 82), (38, 62), (296, 301), (176, 188), frozenset({"06", "15", "17"})),
    "341": Layout("1", (63, 70), (38, 62), (296, 301), (176, 188), frozenset({"06", "07", "08", "10"})),
}


def read_retorno_400(stream: IO[bytes]) -> Iterator[Line]:
    bank = ""
    saw_trailer = False
    for line_no, raw in records(stream, 400):
        f = Fields(raw, line_no)
        if raw[0] == "0":
            if raw[1] != "2":
                raise FileFormatError(line_no, "this is a remessa, not a retorno (position 2 must be 2)")
            bank = raw[76:79]
            if bank not in _LAYOUT:
                raise FileFormatError(line_no, f"bank {bank} is not supported (001, 237, 341)")
            continue
        if not bank:
            raise FileFormatError(line_no, "the file header (record type 0) must come first")
        if raw[0] == "9":
            saw_trailer = True
            continue
        lay = _LAYOUT[bank]
        if raw[0] != lay.detail_type:
            continue
        code = f.text(109, 110)
        if code not in lay.settled:
            continue
        nn = f.text(*lay.nn)
        if bank == "341":
            nn = f.text(83, 85) + nn  # carteira + nosso número
        occurred = f.day(111, 116, "data da ocorrência")
        credited = f.day(*lay.credit, "data do crédito")
        posted = credited or occurred
        if posted is None:
            raise FileFormatError(line_no, "settled title without occurrence or credit date")
        paid = f.money(254, 266, "valor pago")
        yield Line(
            line_no=line_no,
            posted_on=posted,
            amount=paid,
            kind="credit",
            source="return_file",
            nosso_numero=nn,
            seu_numero=f.text(117, 126),
            fees=f.money(*lay.fee, "tarifa"),
            interest=f.money(267, 279, "juros"),
            discount=f.money(241, 253, "desconto"),
            credit_on=credited,
            occurrence=code,
            memo=f"CNAB400 {bank} oc {code} NN {nn}",
            extra={
                "bank": bank,
                "company_use": f.text(*lay.company),
                "face_value": str(f.money(153, 165, "valor")),
            },
        )
    if not bank:
        raise FileFormatError(1, "empty CNAB 400 file")
    if not saw_trailer:
        raise FileFormatError(0, "the file trailer (record type 9) is missing: the file is truncated")
