"""The portal's aggregates. Pure: no I/O, no clock (time comes in `Meta.at`).

- `PlanChangeRequest`: a customer asks for another plan offered in the portal;
  requested ─► approved (effective from the next period) | rejected (reason).
- `ConnectionDay`: one customer's RADIUS sessions that started on one local day. Sessions arrive
  in batches (radacct reader, push endpoint); each batch is ONE `SessionsRecorded` event holding
  only the sessions that are new or changed since the last batch (an interim update replaces the
  session's counters, it never adds to them), so replaying the log never double-counts.
- `RadiusSource`: the tenant's FreeRADIUS `radacct` database and the reader's position in it
  (last `radacctid` read, plus the ids of sessions still open, which are re-read until they stop).
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

REQUEST_STATUSES = ("requested", "approved", "rejected")
SOURCES = ("radacct", "push")
MAX_RECORDS = 1000
MAX_OCTETS = 2**63 - 1
_NAMESPACE = uuid.UUID("0b6e3c52-7a41-4f0e-9a1d-5c2f8e7d9b31")


def connection_day_id(tenant_id: str, customer_id: str, day: date) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"connection-day\x1f{tenant_id}\x1f{customer_id}\x1f{day.isoformat()}")


def radius_source_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"radius-source\x1f{tenant_id}")


def _reason(value: Any) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError("reason", "a reason is required")
    if len(text) > 500:
        raise ValidationError("reason", "reason must have at most 500 characters")
    return text


class PlanChangeRequest(Aggregate):
    """A customer's request to move their subscription to another plan."""

    if TYPE_CHECKING:
        customer_id: str
        subscription_id: str
        from_plan_id: str
        plan_id: str
        status: str
        reason: str
        effective_from: date | None

    class Requested(Aggregate.Created):
        customer_id: str
        subscription_id: str
        from_plan_id: str
        plan_id: str

        def apply(self, req: "PlanChangeRequest") -> None:
            super().apply(req)
            req.status = "requested"
            req.reason = ""
            req.effective_from = None

    class Approved(Aggregate.Event):
        effective_from: date

        def apply(self, req: "PlanChangeRequest") -> None:
            req.status = "approved"
            req.effective_from = self.effective_from

    class Rejected(Aggregate.Event):
        reason: str

        def apply(self, req: "PlanChangeRequest") -> None:
            req.status = "rejected"
            req.reason = self.reason

    @classmethod
    def request(
        cls, meta: Meta, *, customer_id: str, subscription_id: str, from_plan_id: str, plan_id: str
    ) -> "PlanChangeRequest":
        if plan_id == from_plan_id:
            raise ValidationError("plan_id", "the subscription is already on this plan")
        return cls._open(
            cls.Requested,
            meta,
            id=uuid.uuid4(),
            customer_id=customer_id,
            subscription_id=subscription_id,
            from_plan_id=from_plan_id,
            plan_id=plan_id,
        )

    def approve(self, meta: Meta, effective_from: date) -> None:
        if self.status != "requested":
            raise ConflictError(f"the request is already {self.status}")
        self._record(self.Approved, meta, effective_from=effective_from)

    def reject(self, meta: Meta, reason: Any) -> None:
        if self.status != "requested":
            raise ConflictError(f"the request is already {self.status}")
        self._record(self.Rejected, meta, reason=_reason(reason))


# Connection sessions --------------------------------------------------------------------------------
def _instant(value: Any, field: str, *, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            raise ValidationError(field, f"{field} is required")
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(field, f"{field} must be an ISO 8601 instant with offset") from None
    if parsed.tzinfo is None:
        raise ValidationError(field, f"{field} must carry a UTC offset")
    return parsed.astimezone(timezone.utc).isoformat()


def _octets(value: Any, field: str) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OCTETS:
        raise ValidationError(field, f"{field} must be a non-negative integer")
    return value


def _short(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


def clean_session(record: dict[str, Any], *, index: int, source: str) -> dict[str, Any]:
    """One accounting record (push body or radacct row) in the stored shape; ValidationError names
    `records[i].field`. The key identifies the session across interim updates."""
    prefix = f"records[{index}]."
    if not isinstance(record, dict):
        raise ValidationError(f"records[{index}]", "each record must be an object")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"source": source}
    checks: list[tuple[str, Any]] = [
        ("username", lambda v: _short(v, prefix + "username", 253, required=True)),
        ("session_id", lambda v: _short(v, prefix + "session_id", 253, required=True)),
        ("start", lambda v: _instant(v, prefix + "start", required=True)),
        ("stop", lambda v: _instant(v, prefix + "stop", required=False)),
        ("input_octets", lambda v: _octets(v, prefix + "input_octets")),
        ("output_octets", lambda v: _octets(v, prefix + "output_octets")),
        ("terminate_cause", lambda v: _short(v, prefix + "terminate_cause", 64)),
        ("unique_id", lambda v: _short(v, prefix + "unique_id", 253)),
    ]
    for name, check in checks:
        try:
            out[name] = check(record.get(name))
        except ValidationError as exc:
            errors.update(exc.errors)
    ip = record.get("framed_ip") or ""
    try:
        out["framed_ip"] = str(ipaddress.ip_address(str(ip))) if ip else ""
    except ValueError:
        errors[prefix + "framed_ip"] = "framed_ip must be an IP address"
    if errors:
        raise ValidationError.many(errors)
    if out["stop"] and out["stop"] < out["start"]:
        raise ValidationError(prefix + "stop", "stop must not be before start")
    unique = out.pop("unique_id") or f"{out['username']}\x1f{out['session_id']}"
    out["key"] = f"{source}:{unique}"
    return out


def _fingerprint(session: dict[str, Any]) -> list[Any]:
    return [
        session.get("stop"),
        session["input_octets"],
        session["output_octets"],
        session.get("terminate_cause", ""),
        session.get("framed_ip", ""),
    ]


class ConnectionDay(Aggregate):
    """The sessions of one customer that started on one local day (America/Sao_Paulo)."""

    if TYPE_CHECKING:
        customer_id: str
        day: date
        seen: dict[str, list[Any]]

    class Opened(Aggregate.Created):
        customer_id: str
        day: date

        def apply(self, agg: "ConnectionDay") -> None:
            super().apply(agg)
            agg.seen = {}

    class SessionsRecorded(Aggregate.Event):
        customer_id: str
        sessions: list[dict[str, Any]]

        def apply(self, agg: "ConnectionDay") -> None:
            for s in self.sessions:
                agg.seen[s["key"]] = _fingerprint(s)

    @classmethod
    def open(cls, meta: Meta, *, customer_id: str, day: date) -> "ConnectionDay":
        return cls._open(
            cls.Opened,
            meta,
            id=connection_day_id(meta.tenant_id, customer_id, day),
            customer_id=customer_id,
            day=day,
        )

    def record(self, meta: Meta, sessions: list[dict[str, Any]]) -> int:
        """Records the sessions that are new or changed (by key); returns how many."""
        fresh: dict[str, dict[str, Any]] = {}
        for s in sessions:
            if self.seen.get(s["key"]) != _fingerprint(s):
                fresh[s["key"]] = s  # the last state of a session in the batch wins
        if fresh:
            self._record(
                self.SessionsRecorded, meta, customer_id=self.customer_id, sessions=list(fresh.values())
            )
        return len(fresh)


class RadiusSource(Aggregate):
    """The tenant's FreeRADIUS accounting database (read-only) and the reader's cursor."""

    if TYPE_CHECKING:
        dsn: str
        table: str
        active: bool
        last_id: int
        open_ids: list[int]

    class Configured(Aggregate.Created):
        dsn: str
        table: str
        active: bool

        def apply(self, agg: "RadiusSource") -> None:
            super().apply(agg)
            agg.last_id = 0
            agg.open_ids = []

    class Changed(Aggregate.Event):
        dsn: str
        table: str
        active: bool

        def apply(self, agg: "RadiusSource") -> None:
            agg.dsn, agg.table, agg.active = self.dsn, self.table, self.active

    class CursorAdvanced(Aggregate.Event):
        last_id: int
        open_ids: list[int]

        def apply(self, agg: "RadiusSource") -> None:
            agg.last_id = self.last_id
            agg.open_ids = list(self.open_ids)

    @staticmethod
    def _clean(dsn: Any, table: Any) -> tuple[str, str]:
        errors: dict[str, str] = {}
        dsn_text = str(dsn or "").strip()
        if not dsn_text.startswith(("postgresql://", "postgres://")):
            errors["dsn"] = "dsn must be a postgresql:// URL"
        table_text = str(table or "radacct").strip()
        parts = table_text.split(".")
        if len(parts) > 2 or not all(p and (p.replace("_", "").isalnum() and p.isascii()) for p in parts):
            errors["table"] = "table must be a plain (optionally schema-qualified) name"
        if errors:
            raise ValidationError.many(errors)
        return dsn_text, table_text

    @classmethod
    def configure(
        cls, meta: Meta, *, dsn: Any, table: Any = "radacct", active: bool = True
    ) -> "RadiusSource":
        dsn_text, table_text = cls._clean(dsn, table)
        return cls._open(
            cls.Configured,
            meta,
            id=radius_source_id(meta.tenant_id),
            dsn=dsn_text,
            table=table_text,
            active=bool(active),
        )

    def change(self, meta: Meta, *, dsn: Any, table: Any = "radacct", active: bool = True) -> None:
        dsn_text, table_text = self._clean(dsn, table)
        if (dsn_text, table_text, bool(active)) != (self.dsn, self.table, self.active):
            self._record(self.Changed, meta, dsn=dsn_text, table=table_text, active=bool(active))

    def advance(self, meta: Meta, last_id: int, open_ids: list[int]) -> None:
        if last_id < self.last_id:
            raise ConflictError("the radacct cursor never goes back")
        ids = sorted(set(open_ids))
        if last_id != self.last_id or ids != self.open_ids:
            self._record(self.CursorAdvanced, meta, last_id=last_id, open_ids=ids)
