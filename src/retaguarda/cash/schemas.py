"""Request bodies of the cash API (shapes only; the domain validates and names the field)."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class AccountIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    bank: str
    agency: str
    number: str
    opening_balance: Decimal = Decimal("0")
    opening_date: str | None = None


class MappingIn(msgspec.Struct, forbid_unknown_fields=True):
    mapping: dict[str, str]


class PspIn(msgspec.Struct, forbid_unknown_fields=True):
    base_url: str
    client_id: str
    client_secret: str
    pix_key: str
    cert_pem: str
    key_pem: str
    ca_pem: str = ""


class MatchIn(msgspec.Struct, forbid_unknown_fields=True):
    invoice_id: str | None = None
    customer_id: str | None = None


class NotRevenueIn(msgspec.Struct, forbid_unknown_fields=True):
    category: str


class RemittanceIn(msgspec.Struct, forbid_unknown_fields=True):
    account_id: str
