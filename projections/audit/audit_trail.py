"""Audit trail: one row per event of every context (who, when, what, which aggregate).

Unlike other projections it handles EVERY event, so it overrides the class-based dispatch.
The summary is a short readable rendering of the event's payload with CPF/CNPJ masked and
secrets (passwords, hashes, tokens) redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, metadata, paginate
from retaguarda.shared.aggregate import event_data
from retaguarda.shared.documents import mask_documents_in_text

SUMMARY_LIMIT = 500
MAX_PER_PAGE = 200

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("aggregate_type", sa.String(80), nullable=False),
    sa.Column("aggregate_id", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(160), nullable=False),
    sa.Column("summary", sa.String(SUMMARY_LIMIT), nullable=False, server_default=""),
    sa.Column("correlation_id", sa.String(64), nullable=False, server_default=""),
)
sa.Index(None, audit_events.c.tenant_id, audit_events.c.aggregate_id)
sa.Index(None, audit_events.c.tenant_id, audit_events.c.actor)
sa.Index(None, audit_events.c.tenant_id, audit_events.c.occurred_at)

_SENSITIVE = re.compile(r"password|secret|hash|token|api_?key|pfx|p12|private_key|credential",
                        re.IGNORECASE)


def is_sensitive(key: str) -> bool:
    return bool(_SENSITIVE.search(key))


def redact(value: Any) -> Any:
    """Replaces the values of secret-looking keys (password, hash, token, secret, API key,
    certificate file, credentials) by `***`."""
    if isinstance(value, dict):
        return {k: "***" if is_sensitive(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def event_type_of(event: Any) -> str:
    """`Customer.Updated`: the event's class path inside its aggregate."""
    return type(event).__qualname__


def aggregate_type_of(event: Any) -> str:
    return type(event).__qualname__.split(".")[0]


def _render(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def summarize(event: Any, limit: int = SUMMARY_LIMIT) -> str:
    """`name=Ana B, email=ana@x.test`: the payload (a `changes` dict is flattened), masked."""
    data = redact(event_data(event))
    if set(data) == {"changes"} and isinstance(data["changes"], dict):
        data = data["changes"]
    text = mask_documents_in_text(", ".join(f"{k}={_render(v)}" for k, v in data.items()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def trail_row(env: Envelope) -> dict[str, Any]:
    e = env.event
    return dict(
        position=env.position,
        tenant_id=str(getattr(e, "tenant_id", "") or ""),
        occurred_at=_utc(e.timestamp),
        actor=str(getattr(e, "actor", "") or "")[:120],
        aggregate_type=aggregate_type_of(e)[:80],
        aggregate_id=str(e.originator_id),
        version=e.originator_version,
        event_type=event_type_of(e)[:160],
        summary=summarize(e),
        correlation_id=str(getattr(e, "correlation_id", "") or "")[:64],
    )


class AuditTrail(Projection):
    name = "audit_trail"
    tables = (audit_events,)

    def wants(self, event: Any) -> bool:
        return True

    def handler_for(self, event: Any) -> Callable[[Envelope, Writer], None] | None:
        return self.record

    def record(self, env: Envelope, w: Writer) -> None:
        w.insert(audit_events, trail_row(env))

    def process(self, envelopes: Iterable[Envelope], writer: Writer) -> int:
        count = 0
        for env in envelopes:
            self.record(env, writer)
            count += 1
        writer.flush()
        return count


# Queries -------------------------------------------------------------------------------

def _as_dict(r: Any) -> dict[str, Any]:
    row = dict(r._mapping)
    if isinstance(row["occurred_at"], datetime):
        row["occurred_at"] = _utc(row["occurred_at"])
    return row


def list_audit_events(
    conn: Connection, tenant_id: str, *, aggregate_id: str = "", actor: str = "",
    type: str = "", since: datetime | None = None, until: datetime | None = None,
    page: int = 1, per_page: int = 50,
) -> dict[str, Any]:
    """One tenant's events, newest first, filtered; `type` matches `Customer.Updated` or `Customer`."""
    page = max(1, int(page))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    t = audit_events
    where = [t.c.tenant_id == tenant_id]
    if aggregate_id:
        where.append(t.c.aggregate_id == aggregate_id.strip())
    if actor:
        where.append(t.c.actor == actor.strip())
    if type:
        kind = type.strip()
        where.append(t.c.event_type == kind if "." in kind else t.c.aggregate_type == kind)
    if since is not None:
        where.append(t.c.occurred_at >= _utc(since))
    if until is not None:
        where.append(t.c.occurred_at <= _utc(until))
    return paginate(conn, t, where, [t.c.position.desc()], page, per_page, _as_dict)


def event_types(conn: Connection, tenant_id: str) -> list[str]:
    """Distinct event types seen in the tenant (for the filter drop-down)."""
    t = audit_events
    rows = conn.execute(sa.select(t.c.event_type).where(t.c.tenant_id == tenant_id)
                        .distinct().order_by(t.c.event_type))
    return [r[0] for r in rows]


__all__ = ["AuditTrail", "audit_events", "event_types", "list_audit_events", "redact", "summarize"]
