"""Audit queries over the event store: history, time travel and verification of the seal.

These read the event log directly (not a read model), so they always show what is stored.
Tenant scoping: pass the caller's `tenant_id`; an aggregate of another tenant (or a missing one)
is NotFoundError. The CLI passes `tenant_id=None` (auditors on the server are not restricted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Engine

from projections.audit.audit_trail import aggregate_type_of, event_type_of, redact
from projections.audit.seal import verify_chain
from retaguarda.shared.aggregate import event_data
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable

READ_BATCH = 1000
_NOT_CHANGES = {"version", "modified_on", "created_on", "id", "type", "tenant_id"}

# Which permission, besides `audit:read`, lets a user read an aggregate type's history.
HISTORY_PERMISSIONS: dict[str, str] = {
    "Customer": "customers:read",
    "Ticket": "support:read",
    "Nfse": "fiscal:read",
    "FiscalSettings": "fiscal:settings",
    "Certificate": "fiscal:settings",
    "Target": "cnpj:read",
    "CnpjCheck": "cnpj:read",
    "Plan": "billing:read",
    "Subscription": "billing:read",
    "Invoice": "billing:read",
    "Campaign": "campaigns:read",
    "CampaignMessage": "campaigns:read",
}
DEFAULT_HISTORY_PERMISSION = "audit:read"


def history_permission(aggregate_type: str) -> str:
    return HISTORY_PERMISSIONS.get(aggregate_type, DEFAULT_HISTORY_PERMISSION)


def can_read_history(principal: Any, aggregate_type: str) -> bool:
    """Auditors read every history; others read the histories of the records they may see."""
    return principal.can("audit:read") or principal.can(history_permission(aggregate_type))


# Parsing of query parameters ------------------------------------------------------------

def parse_instant(value: str | None, field: str, *, end_of_day: bool = False) -> datetime | None:
    """ISO-8601 date or date-time; without an offset it is taken as UTC. Bad text → 422 on `field`."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            parsed = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            field, "must be an ISO-8601 date or date-time, e.g. 2026-11-23T12:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_version(value: Any, field: str = "version") -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, "must be a positive whole number") from None
    if number < 1:
        raise ValidationError(field, "must be a positive whole number")
    return number


# History and time travel ----------------------------------------------------------------

def _uuid(aggregate_id: Any) -> UUID:
    try:
        return aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id).strip())
    except ValueError:
        raise NotFoundError("Aggregate", aggregate_id) from None


def _events(store: Any, aggregate_id: Any, tenant_id: str | None) -> tuple[UUID, list[Any]]:
    uid = _uuid(aggregate_id)
    events = store.history(uid)
    if not events or (tenant_id is not None and getattr(events[0], "tenant_id", None) != tenant_id):
        raise NotFoundError("Aggregate", aggregate_id)
    return uid, events


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} between two JSON-safe states (old is None on creation)."""
    if before is None:  # creation: what it was created with, empty fields left out
        return {k: [None, v] for k, v in after.items()
                if k not in _NOT_CHANGES and v not in (None, "", [], {})}
    return {k: [before.get(k), v] for k, v in after.items()
            if k not in _NOT_CHANGES and before.get(k) != v}


def history(store: Any, aggregate_id: Any, tenant_id: str | None) -> dict[str, Any]:
    """Every event of one aggregate, oldest first, with its data and what it changed.

    Raises NotFoundError for a missing aggregate or one of another tenant.
    """
    uid, events = _events(store, aggregate_id, tenant_id)
    items = []
    aggregate: Any = None
    before: dict[str, Any] | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
        after = jsonable(redact(aggregate.as_state()))
        items.append({
            "version": event.originator_version,
            "type": event_type_of(event),
            "timestamp": jsonable(event.timestamp),
            "actor": getattr(event, "actor", ""),
            "correlation_id": getattr(event, "correlation_id", ""),
            "data": jsonable(redact(event_data(event))),
            "changes": _diff(before, after),
        })
        before = after
    return {"aggregate_id": str(uid), "aggregate_type": aggregate_type_of(events[0]),
            "tenant_id": getattr(events[0], "tenant_id", ""), "events": items}


def aggregate_type(store: Any, aggregate_id: Any, tenant_id: str | None) -> str:
    _, events = _events(store, aggregate_id, tenant_id)
    return aggregate_type_of(events[0])


def state(store: Any, aggregate_id: Any, tenant_id: str | None, version: int | None = None,
          at: datetime | None = None) -> dict[str, Any]:
    """The aggregate's state as of `version`, or as of instant `at` (latest when neither).

    ValidationError on `version` outside 1..latest, on `at` before the aggregate existed, or
    when both are given; NotFoundError as in `history`.
    """
    if version is not None and at is not None:
        raise ValidationError("version", "give either version or at, not both")
    uid, events = _events(store, aggregate_id, tenant_id)
    latest = events[-1].originator_version
    first = events[0].originator_version
    if at is not None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        reached = [e for e in events if e.timestamp <= at]
        if not reached:
            raise ValidationError("at", f"the record did not exist yet at {at.isoformat()} "
                                        f"(created {events[0].timestamp.isoformat()})")
        version = reached[-1].originator_version
    elif version is None:
        version = latest
    elif not first <= version <= latest:
        raise ValidationError("version", f"must be between {first} and {latest}")
    aggregate = store.get(uid, version=version)
    as_of = next(e.timestamp for e in events if e.originator_version == version)
    return {"aggregate_id": str(uid), "aggregate_type": aggregate_type_of(events[0]),
            "version": version, "as_of": jsonable(as_of),
            "state": jsonable(redact(aggregate.as_state()))}


# Verification of the seal --------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_position: int | None = None
    reason: str = ""
    sealed_head: int = 0
    store_head: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_bad_position": self.first_bad_position,
                "reason": self.reason, "sealed_head": self.sealed_head, "store_head": self.store_head}


def seal_key_of(settings: Any) -> bytes:
    """The deployment's seal key (HMAC), from settings."""
    import base64

    return base64.b64decode(settings.seal_key)


def verify(store: Any, engine: Engine, seal_key: bytes,
           checkpoints: dict[int, str] | None = None) -> VerifyResult:
    """Recomputes the keyed seal chain from every stored event and compares it with `audit_seal`
    (and with signed checkpoints kept by an auditor, position → head hash).

    Fails at the first position where a stored event was altered (link mismatch), removed
    (sealed but missing), or slipped in (stored inside the sealed range but never sealed), where
    the seal itself lost a link, or where a kept checkpoint disagrees. Events after the sealed
    head are simply not sealed yet.
    """
    result = verify_chain(store, engine, seal_key, checkpoints)
    return VerifyResult(result["ok"], result["checked"], result["first_bad_position"], result["reason"],
                        result["sealed_head"], result["store_head"])


__all__ = [
    "HISTORY_PERMISSIONS",
    "VerifyResult",
    "aggregate_type",
    "can_read_history",
    "history",
    "history_permission",
    "parse_instant",
    "parse_version",
    "seal_key_of",
    "state",
    "verify",
]
