"""NFCom items, tax rates and the arithmetic of the totals (MOC Anexo I G86, G99-G136). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Item:
    code: str
    description: str
    cclass: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    cfop: str = "5307"
    discount: Decimal = Decimal("0")


@dataclass(frozen=True)
class Taxes:
    """Rates in percent. `icms_mode`: "normal" (ICMS00, CRT 3), "simples" (ICMSSN CST 90)."""

    icms_mode: str = "normal"
    icms_rate: Decimal = Decimal("0")
    pis_rate: Decimal = Decimal("0")
    cofins_rate: Decimal = Decimal("0")
    fust_rate: Decimal = Decimal("0")
    funttel_rate: Decimal = Decimal("0")
    ibscbs: bool = False
    cbs_rate: Decimal = Decimal("0.90")
    ibs_uf_rate: Decimal = Decimal("0.10")
    ibs_mun_rate: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ItemTotals:
    gross: Decimal
    icms_base: Decimal
    icms: Decimal
    pis: Decimal
    cofins: Decimal
    fust: Decimal
    funttel: Decimal
    cbs: Decimal
    ibs_uf: Decimal
    ibs_mun: Decimal


def item_totals(item: Item, taxes: Taxes) -> ItemTotals:
    """vProd = vItem x qFaturada - vDesc; each tax = base x rate (half-even to cents)."""
    gross = cents(item.unit_price * item.quantity - item.discount)
    icms_base = gross if taxes.icms_mode == "normal" else Decimal("0.00")
    return ItemTotals(
        gross=gross,
        icms_base=icms_base,
        icms=cents(icms_base * taxes.icms_rate / 100),
        pis=cents(gross * taxes.pis_rate / 100),
        cofins=cents(gross * taxes.cofins_rate / 100),
        fust=cents(gross * taxes.fust_rate / 100),
        funttel=cents(gross * taxes.funttel_rate / 100),
        cbs=cents(gross * taxes.cbs_rate / 100) if taxes.ibscbs else Decimal("0.00"),
        ibs_uf=cents(gross * taxes.ibs_uf_rate / 100) if taxes.ibscbs else Decimal("0.00"),
        ibs_mun=cents(gross * taxes.ibs_mun_rate / 100) if taxes.ibscbs else Decimal("0.00"),
    )


def document_totals(items: tuple[Item, ...], taxes: Taxes) -> dict[str, Decimal]:
    out = {
        k: Decimal("0.00")
        for k in (
            "gross",
            "icms_base",
            "icms",
            "pis",
            "cofins",
            "fust",
            "funttel",
            "cbs",
            "ibs_uf",
            "ibs_mun",
        )
    }
    for item in items:
        t = item_totals(item, taxes)
        for key in out:
            out[key] += getattr(t, key)
    out["total"] = out["gross"]
    return out
