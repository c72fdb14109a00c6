"""Energisa JSON → our values (one conversion for every adapter: real, sandbox).

Field names are the portal's as public code uses it (reference energy.md §2.4–2.6). Amounts go
through `money_from_portal` (exact to the cent from the portal's floats); the PIX copy-paste is
kept only when its BR Code verifies, the barcode only when it verifies as arrecadação — a bad
code is dropped with a warning rather than shown to someone who would pay it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from retaguarda.energy.codes import arrecadacao, pix_ok
from retaguarda.energy.domain import money_from_portal

PAYMENT_STATUS = {"pendente": "pending", "pago no prazo": "paid_on_time", "pago fora do prazo": "paid_late"}
ITEM_KEYS = (
    "servicoDistribuicaoEnergia",
    "compraEnergia",
    "perdasEnergia",
    "servicoTransmissao",
    "encargosSetoriais",
    "impostosDiretosEncargos",
    "outrosServicos",
)
EXTRA_ITEMS = {"valorIluminacaoPublica": "iluminacaoPublica", "valorICMS": "icms"}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _date(iso: Any, br: Any = None) -> date | None:
    if iso:
        try:
            return datetime.fromisoformat(str(iso)[:19]).date()
        except ValueError:
            pass
    if br:
        try:
            return datetime.strptime(str(br)[:10], "%d/%m/%Y").date()
        except ValueError:
            pass
    return None


def _kwh(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def unit_from_portal(item: dict[str, Any]) -> dict[str, Any]:
    number = _int(item.get("numeroUc"))
    generator = item.get("geracaoDistribuida")
    street = ", ".join(str(x) for x in (item.get("endereco"), item.get("numeroImovel")) if x)
    address = " - ".join(str(x) for x in (street, item.get("complemento"), item.get("bairro")) if x)
    city = "/".join(str(x) for x in (item.get("nomeMunicipio"), item.get("uf")) if x)
    return {
        "number": number,
        "digit": _int(item.get("digitoVerificador")),
        "company_code": _int(item.get("codigoEmpresaWeb"), 6),
        "address": address[:300],
        "city": city[:120],
        "klass": str(item.get("classeLeitura") or "")[:40],
        "active": bool(item.get("ucAtiva", True)),
        "cut": bool(item.get("ucCortada") or item.get("indicadorCorte")),
        "low_income": bool(item.get("baixaRenda")),
        "is_generator": generator is not None and _int(generator) == number,
        "generator_number": _int(generator) if generator is not None else None,
    }


def gd_from_portal(objeto: dict[str, Any]) -> tuple[Decimal | None, list[dict[str, Any]]]:
    """(credit balance kWh, beneficiaries [{number, digit, name, percent}]) of a plant."""
    beneficiaries = []
    for b in objeto.get("listaBeneficiarias") or []:
        beneficiaries.append(
            {
                "number": _int(b.get("cdc")),
                "digit": _int(b.get("digitoVerificador")),
                "name": str(b.get("nome") or ""),
                "percent": _int(b.get("percentualRecebido")),
            }
        )
    return _kwh(objeto.get("qtdKwhSaldo")), beneficiaries


def bill_from_portal(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Our bill fields from one portal bill object, and warnings about dropped payment codes."""
    warnings: list[str] = []
    month = f"{_int(item.get('anoReferencia')):04d}-{_int(item.get('mesReferencia')):02d}"
    situation = str(item.get("situacaoPagamento") or "").strip().lower()
    status = PAYMENT_STATUS.get(situation)
    if status is None:
        status = "paid_on_time" if item.get("indicadorPagamento") else "pending"
    items: dict[str, str] = {}
    detail = item.get("detalhamentoFatura") or {}
    for key in ITEM_KEYS:
        if isinstance(detail.get(key), (int, float)) and not isinstance(detail.get(key), bool):
            items[key] = str(money_from_portal(detail[key]))
    for key, name in EXTRA_ITEMS.items():
        if isinstance(item.get(key), (int, float)) and not isinstance(item.get(key), bool):
            items[name] = str(money_from_portal(item[key]))
    pix = str(item.get("qrCodePix") or "").strip()
    if pix and not pix_ok(pix):
        warnings.append(f"bill {month}: PIX copy-paste does not verify (CRC or structure); dropped")
        pix = ""
    raw_code = str(item.get("codigoBarraFaturaLis") or item.get("codigoBarra") or "").strip()
    barcode = line = ""
    if raw_code:
        checked = arrecadacao(raw_code)
        if checked is None:
            warnings.append(f"bill {month}: barcode does not verify as arrecadação; dropped")
        else:
            barcode, line = checked
    data = {
        "reference_month": month,
        "number": _int(item.get("numeroFatura")),
        "amount": money_from_portal(item.get("valorFatura")),
        "due_date": _date(item.get("dataVencimentoISO"), item.get("dataVencimento")),
        "payment_date": _date(item.get("dataPagamentoISO"), item.get("dataPagamento")),
        "status": status,
        "consumption_kwh": _kwh(item.get("consumo")),
        "tariff_flag": str(item.get("bandeiraTarifaria") or "")[:40],
        "items": items,
        "pix_copy_paste": pix,
        "barcode": barcode,
        "digitable_line": line,
    }
    return data, warnings
