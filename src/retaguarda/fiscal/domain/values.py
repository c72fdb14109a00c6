"""Fiscal vocabulary and value rules: statuses, ids, money and rates, taxes, service, tomador."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from retaguarda.shared.errors import ValidationError

BACKENDS = ("sandbox", "portal_nacional", "focus_nfe", "tecnospeed")


ENVIRONMENTS = ("producao_restrita", "producao")


TAX_REGIMES = ("normal", "mei", "simples_nacional")


SPECIAL_REGIMES = (0, 1, 2, 3, 4, 5, 6, 9)


CANCEL_REASONS = {"1": "Erro na emissão", "2": "Serviço não prestado", "9": "Outros"}


CREDENTIAL_KEYS = ("focus_token", "focus_token_producao", "plugnotas_api_key")


STATUSES = ("draft", "requested", "submitted", "authorized", "rejected", "failed", "cancelling",
            "cancelled", "cancellation_rejected", "cancellation_failed")


DEAD_LETTER_STATUSES = ("failed", "cancellation_failed")


EXPIRY_THRESHOLDS = (30, 15, 7, 1)


CENT = Decimal("0.01")


DEFAULT_CBS_RATE = Decimal("0.90")


DEFAULT_IBS_UF_RATE = Decimal("0.10")


DEFAULT_IBS_MUN_RATE = Decimal("0.00")


_NAMESPACE = uuid.UUID("8a0f5b8e-3d0c-4c1e-b7d4-1f3c2a9e6d55")


_SERVICE_CODE_RE = re.compile(r"^\d{6}$")


_NBS_RE = re.compile(r"^\d{9}$")


_IBGE_RE = re.compile(r"^\d{7}$")


_SERIES_RE = re.compile(r"^\d{1,5}$")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"settings\x1f{tenant_id}")


def certificate_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"certificate\x1f{tenant_id}")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


MAX_MONEY = Decimal("9999999999999.99")
"""The largest amount the DPS schema carries (TSDec15V2: 15 digits, 2 of them decimals)."""


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A Decimal of cents from a decimal string (or int/Decimal); floats are refused."""
    if isinstance(value, float | bool):
        raise ValidationError(field, "send money as a decimal string, e.g. \"1500.00\"")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "must be a decimal number such as 1500.00") from None
    if not number.is_finite():
        raise ValidationError(field, "must be a decimal number such as 1500.00")
    if number < 0:
        raise ValidationError(field, "cannot be negative")
    if number == 0 and not allow_zero:
        raise ValidationError(field, "must be greater than zero")
    if number > MAX_MONEY:  # before quantize: a huge exponent overflows the decimal context
        raise ValidationError(field, f"must be at most {MAX_MONEY}")
    if number.as_tuple().exponent < -12 or number != number.quantize(CENT):  # type: ignore[operator]
        raise ValidationError(field, "must have at most 2 decimal places")
    return cents(number)


def rate(value: Any, field: str, *, maximum: Decimal = Decimal("100")) -> Decimal:
    """A percentage as a Decimal with up to 2 places (e.g. 2.00 for 2 %)."""
    if isinstance(value, float | bool):
        raise ValidationError(field, "send rates as a decimal string, e.g. \"2.00\"")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "must be a percentage such as 2.00") from None
    if not number.is_finite() or number < 0 or number > maximum:
        raise ValidationError(field, f"must be between 0 and {maximum} (percent)")
    if number != number.quantize(CENT):
        raise ValidationError(field, "must have at most 2 decimal places")
    return number.quantize(CENT)


def compute_taxes(amount: Decimal, deductions: Decimal, iss_rate: Decimal, iss_withheld: bool,
                  cbs_rate: Decimal, ibs_uf_rate: Decimal, ibs_mun_rate: Decimal) -> dict[str, Decimal]:
    """Preview of a note's taxes, half-even to cents (same rules as `fiscal.taxes`):
    ISS base = amount − deductions; CBS/IBS base = amount − ISS (2026 test year, informative)."""
    iss_base = amount - deductions
    iss = cents(iss_base * iss_rate / 100)
    ibscbs_base = amount - iss
    cbs = cents(ibscbs_base * cbs_rate / 100)
    ibs_uf = cents(ibscbs_base * ibs_uf_rate / 100)
    ibs_mun = cents(ibscbs_base * ibs_mun_rate / 100)
    withheld = iss if iss_withheld else Decimal("0.00")
    return {
        "iss_base": iss_base, "iss": iss, "iss_withheld_value": withheld, "net": amount - withheld,
        "ibscbs_base": ibscbs_base, "cbs_rate": cbs_rate, "cbs": cbs, "ibs_uf_rate": ibs_uf_rate,
        "ibs_uf": ibs_uf, "ibs_mun_rate": ibs_mun_rate, "ibs_mun": ibs_mun, "ibs": ibs_uf + ibs_mun,
    }


def clean_service(value: Any, prefix: str = "service") -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError(prefix, "service must be an object with code, nbs and description")
    errors: dict[str, str] = {}
    code = re.sub(r"[.\s]", "", str(value.get("code") or ""))
    if not _SERVICE_CODE_RE.match(code):
        errors[f"{prefix}.code"] = ("national service code (cTribNac) must have 6 digits, "
                                    "e.g. 010701 (item 01.07, subitem 01)")
    nbs = re.sub(r"[.\s]", "", str(value.get("nbs") or ""))
    if nbs and not _NBS_RE.match(nbs):
        errors[f"{prefix}.nbs"] = "NBS code must have 9 digits, e.g. 115021000"
    description = " ".join(str(value.get("description") or "").split())
    if not description:
        errors[f"{prefix}.description"] = "describe the service"
    elif len(description) > 2000:
        errors[f"{prefix}.description"] = "description must have at most 2000 characters"
    if errors:
        raise ValidationError.many(errors)
    return {"code": code, "nbs": nbs, "description": description}


def clean_competence(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("competence", "competence must be a date YYYY-MM-DD") from None


def clean_tomador(value: Any) -> dict[str, Any]:
    """The tomador snapshot taken from the customer; refuses what layout v1.01 cannot carry."""
    document = str(value.get("document") or "")
    if len(document) == 14 and not document.isdigit():
        raise ValidationError(
            "customer_id", "this customer has an alphanumeric CNPJ, which the NFS-e Nacional layout "
                           "v1.01 cannot carry yet; issue the note when the layout accepts it")
    if not (len(document) in (11, 14) and document.isdigit()):
        raise ValidationError("customer_id", "the customer needs a CPF or CNPJ to be a tomador")
    if value.get("status") == "inactive":
        raise ValidationError("customer_id", "the customer is inactive")
    return dict(value)


def _reason(text: Any) -> str:
    reason = " ".join(str(text or "").split())
    if len(reason) < 15:
        raise ValidationError("reason", "the cancellation reason must have at least 15 characters")
    if len(reason) > 255:
        raise ValidationError("reason", "the cancellation reason must have at most 255 characters")
    return reason
