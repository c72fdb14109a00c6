"""Request bodies of the energy API (shapes only; the service validates values)."""

from __future__ import annotations

from typing import Any

import msgspec


class AccountIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    document: str = ""
    phone_last4: str = ""
    distributor: str = "energisa"
    customer_id: str | None = None
    portal: str | None = None


class SmsIn(msgspec.Struct, forbid_unknown_fields=True):
    transaction_id: str = ""
    code: Any = ""


class BeneficiariesIn(msgspec.Struct, forbid_unknown_fields=True):
    items: list[dict[str, Any]] = msgspec.field(default_factory=list)
