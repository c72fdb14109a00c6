"""Request bodies of the field API (shapes only; the domain validates values)."""

from __future__ import annotations

from typing import Any

import msgspec


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    kind: str
    description: str = ""
    priority: str = "medium"
    ticket_id: str | None = None
    address: dict[str, str] | None = None


class FromTicketIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str = "repair"
    description: str = ""
    priority: str | None = None


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    technician_id: str
    start: str
    end: str
    reason: str = ""


class CompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    checklist: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    notes: str = ""
    signature: str | None = None
    """The customer's signature as a PNG data URL (`data:image/png;base64,…`)."""
    geo: dict[str, Any] | None = None


class FailIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    notes: str = ""


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
