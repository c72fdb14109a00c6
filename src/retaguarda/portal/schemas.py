"""Request bodies of the portal API (shapes only; values are validated by the domain)."""

from __future__ import annotations

from typing import Any

import msgspec


class TicketIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    description: str = ""


class PlanChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    plan_id: str


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class AccountingIn(msgspec.Struct, forbid_unknown_fields=True):
    records: list[dict[str, Any]]


class RadiusSourceIn(msgspec.Struct, forbid_unknown_fields=True):
    dsn: str
    table: str = "radacct"
    active: bool = True
