"""Request bodies of the fiscal API (shapes only; the domain validates and names the field).

Money and rates are `Decimal`: msgspec reads a JSON string ("1500.00") or number (1500.00)
exactly from its text, never through a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec


class ServiceIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str | None = None
    nbs: str | None = None
    description: str | None = None


class NfseIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    amount: Decimal
    service: ServiceIn | None = None
    competence: str | None = None
    iss_rate: Decimal | None = None
    iss_withheld: bool | None = None
    deductions: Decimal | None = None
    municipality_ibge: str | None = None


class NfsePatch(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str | None = None
    amount: Decimal | None = None
    service: ServiceIn | None = None
    competence: str | None = None
    iss_rate: Decimal | None = None
    iss_withheld: bool | None = None
    deductions: Decimal | None = None
    municipality_ibge: str | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason_code: str
    reason: str


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal
    deductions: Decimal = Decimal("0")
    iss_rate: Decimal | None = None
    iss_withheld: bool = False


class IssuerIn(msgspec.Struct, forbid_unknown_fields=True):
    cnpj: str
    name: str
    municipality_ibge: str
    uf: str
    municipal_registration: str = ""
    tax_regime: str = "simples_nacional"
    special_regime: int = 0
    street: str = ""
    number: str = ""
    district: str = ""
    cep: str = ""
    email: str = ""
    phone: str = ""


class DefaultServiceIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    description: str
    nbs: str = ""
    iss_rate: Decimal = Decimal("2.00")
    iss_withheld: bool = False


class CredentialsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Write-only: never returned. Omit (or send null) to keep what is stored; "" removes it."""

    focus_token: str | None = None
    focus_token_producao: str | None = None
    plugnotas_api_key: str | None = None


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    backend: str
    issuer: IssuerIn
    default_service: DefaultServiceIn
    environment: str = "producao_restrita"
    series: str = "900"
    next_number: int = 1
    cbs_rate: Decimal = Decimal("0.90")
    ibs_uf_rate: Decimal = Decimal("0.10")
    ibs_mun_rate: Decimal = Decimal("0.00")
    emit_on_cash_confirm: bool = False
    credentials: CredentialsIn | None = None


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /fiscal/settings: any subset of the PUT body's fields."""

    backend: str | None = None
    issuer: dict[str, Any] | None = None
    default_service: dict[str, Any] | None = None
    environment: str | None = None
    series: str | None = None
    next_number: int | None = None
    cbs_rate: Decimal | None = None
    ibs_uf_rate: Decimal | None = None
    ibs_mun_rate: Decimal | None = None
    emit_on_cash_confirm: bool | None = None


SETTINGS_KEYS = ("backend", "environment", "issuer", "series", "next_number", "default_service", "cbs_rate",
                 "ibs_uf_rate", "ibs_mun_rate", "emit_on_cash_confirm")


def merged_settings(current: Any, body: SettingsPatch) -> dict[str, Any]:
    """The stored settings with the fields given in a PATCH body replaced (objects merged)."""
    data = {k: getattr(current, k) for k in SETTINGS_KEYS}
    for key, value in msgspec.structs.asdict(body).items():
        if value is None:
            continue
        data[key] = {**(data.get(key) or {}), **value} if isinstance(value, dict) else value
    return data


def settings_fields(body: SettingsIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings document, credentials to change)."""
    data = msgspec.structs.asdict(body)
    credentials = data.pop("credentials") or None
    data["issuer"] = msgspec.structs.asdict(body.issuer)
    data["default_service"] = msgspec.structs.asdict(body.default_service)
    if credentials is not None:
        credentials = {k: v for k, v in msgspec.structs.asdict(body.credentials).items() if v is not None}
    return data, credentials or {}


def note_fields(body: NfseIn | NfsePatch) -> dict[str, Any]:
    data = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    if isinstance(body.service, ServiceIn):
        data["service"] = {k: v for k, v in msgspec.structs.asdict(body.service).items() if v is not None}
    return data
