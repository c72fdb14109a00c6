"""Payment codes of utility bills, checked with billing's pure format modules.

PIX copy-paste: billing's BR Code parser (TLV structure, mandatory fields, CRC-16/CCITT-FALSE).
Barcode / linha digitável: billing's arrecadação checker (FEBRABAN layout v06: 44-digit barcode
or 48-digit line, mod 10 / mod 11 chosen by the value id). `make_arrecadacao` builds a valid
energy-segment barcode (sandbox data and tests).
"""

from __future__ import annotations

from decimal import Decimal

from retaguarda.billing.boleto import (
    arrecadacao_line_from_barcode,
    mod10,
    mod11_arrecadacao,
    parse_arrecadacao,
)
from retaguarda.billing.pix import build_brcode, verify_brcode

__all__ = ["arrecadacao", "make_arrecadacao", "make_pix", "pix_ok"]


def pix_ok(code: str) -> bool:
    """True when `code` is a well-formed PIX BR Code whose CRC verifies."""
    return bool(code) and verify_brcode(code)


def arrecadacao(code: str) -> tuple[str, str] | None:
    """(44-digit barcode, 48-digit line) when `code` (either form) verifies as arrecadação, else None."""
    try:
        parsed = parse_arrecadacao(code)
    except ValueError:
        return None
    return str(parsed["barcode"]), str(parsed["digitable_line"])


def make_arrecadacao(
    amount: Decimal, company: str, free_field: str, segment: str = "3", value_id: str = "8"
) -> str:
    """A 44-digit arrecadação barcode with its general check digit (position 4)."""
    cents = int((amount * 100).to_integral_value())
    body = f"8{segment}{value_id}" + f"{cents:011d}" + company.zfill(4)[:4] + free_field.zfill(25)[:25]
    dv = mod10(body) if value_id in "67" else mod11_arrecadacao(body)
    barcode = body[:3] + str(dv) + body[3:]
    arrecadacao_line_from_barcode(barcode)  # raises on a malformed build
    return barcode


def make_pix(*, key: str, name: str, city: str, amount: Decimal, txid: str) -> str:
    return build_brcode(key=key, merchant_name=name, merchant_city=city, amount=amount, txid=txid)
