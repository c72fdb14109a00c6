"""CNAB 400 retorno (bank-proprietary layouts): Banco do Brasil CBR643 (convênio 7, detail type 7),
Bradesco (237) and Itaú (341), detail type 1. Settled titles become credit `Line`s.

Itaú 10 ("baixa because paid", also a boleto paid through its Pix QR) counts as a settlement;
Itaú 95 and Santander-style "baixa operacional" do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from retaguarda.cash.formats import FileFormatError, Line
from retaguarda.cash.formats.fixed import Fields, records

# bank → detail type, nosso número positions, company use, credit date, tarifa, settled codes
_LAYOUT: dict[str, dict[str, object]] = {
    "001": {"type": "7", "nn": (64, 80), "company": (39, 63), "credit": (176, 181), "fee": (182, 188),
            "settled": {"05", "06", "07", "08", "15"}},
    "237": {"type": "1", "nn": (71, 82), "company": (38, 62), "credit": (296, 301), "fee": (176, 188),
            "settled": {"06", "15", "17"}},
    "341": {"type": "1", "nn": (63, 70), "company": (38, 62), "credit": (296, 301), "fee": (176, 188),
            "settled": {"06", "07", "08", "10"}},
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
        if raw[0] != lay["type"]:
            continue
        code = f.text(109, 110)
        if code not in lay["settled"]:  # type: ignore[operator]
            continue
        start, end = lay["nn"]  # type: ignore[misc]
        nn = f.text(start, end)
        if bank == "341":
            nn = f.text(83, 85) + nn  # carteira + nosso número
        c1, c2 = lay["credit"]  # type: ignore[misc]
        f1, f2 = lay["fee"]  # type: ignore[misc]
        k1, k2 = lay["company"]  # type: ignore[misc]
        occurred = f.day(111, 116, "data da ocorrência")
        credited = f.day(c1, c2, "data do crédito")
        if occurred is None and credited is None:
            raise FileFormatError(line_no, "settled title without occurrence or credit date")
        paid = f.money(254, 266, "valor pago")
        yield Line(line_no=line_no, posted_on=(credited or occurred), amount=paid,  # type: ignore[arg-type]
                   kind="credit", source="return_file", nosso_numero=nn, seu_numero=f.text(117, 126),
                   fees=f.money(f1, f2, "tarifa"), interest=f.money(267, 279, "juros"),
                   discount=f.money(241, 253, "desconto"), credit_on=credited, occurrence=code,
                   memo=f"CNAB400 {bank} oc {code} NN {nn}",
                   extra={"bank": bank, "company_use": f.text(k1, k2), "face_value": str(f.money(153, 165, "valor"))})
    if not bank:
        raise FileFormatError(1, "empty CNAB 400 file")
    if not saw_trailer:
        raise FileFormatError(0, "the file trailer (record type 9) is missing: the file is truncated")
