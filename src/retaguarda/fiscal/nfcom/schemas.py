"""Request bodies of the NFCom API (shapes only; the domain validates and names the field).
Money and quantities are `Decimal`: msgspec reads "99.90" or 99.90 exactly, never via a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    description: str | None = None
    unit_price: Decimal | None = None
    quantity: Decimal | None = None
    cclass: str | None = None
    unit: str | None = None
    cfop: str | None = None
    code: str | None = None
    discount: Decimal | None = None


class NfcomIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    competence: str
    items: list[ItemIn]
    invoice_id: str | None = None
    due_date: str | None = None
    barcode: str | None = None
    pix_url: str | None = None
    contract: str | None = None
    terminal: str | None = None


class NfcomPatch(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str | None = None
    competence: str | None = None
    items: list[ItemIn] | None = None
    invoice_id: str | None = None
    due_date: str | None = None
    barcode: str | None = None
    pix_url: str | None = None
    contract: str | None = None
    terminal: str | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str | None = None


class NfcomSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    backend: str | None = None
    environment: str | None = None
    series: int | None = None
    next_number: int | None = None
    state_registration: str | None = None
    crt: int | None = None
    icms_rate: Decimal | None = None
    pis_rate: Decimal | None = None
    cofins_rate: Decimal | None = None
    fust_rate: Decimal | None = None
    funttel_rate: Decimal | None = None
    cclass: str | None = None
    cfop: str | None = None
    subscriber_kind: int | None = None
    service_type: int | None = None
    ibscbs: bool | None = None
    due_days: int | None = None
    city: str | None = None
    issue_on: str | None = None
    scm_kinds: list[str] | None = None


def fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent (None = not sent), items as plain dicts."""
    out: dict[str, Any] = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if value is None:
            continue
        if name == "items":
            value = [
                {k: getattr(i, k) for k in i.__struct_fields__ if getattr(i, k) is not None} for i in value
            ]
        out[name] = value
    return out
