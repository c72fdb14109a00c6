"""RADIUS sessions per customer (connection history) and the link RADIUS username → customer.

A session row is keyed by the session's key (radacct `acctuniqueid`, or username + session id
for pushed records): a later state of the same session (interim update, stop) replaces the row,
so daily usage sums each session once, with its latest counters."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.customers.domain import Customer
from retaguarda.portal.domain import ConnectionDay, RadiusSource

ZONE = ZoneInfo("America/Sao_Paulo")

portal_radius_users = sa.Table(
    "portal_radius_users",
    metadata,
    sa.Column("customer_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("username", sa.String(253), nullable=False),
)
sa.Index(None, portal_radius_users.c.tenant_id, portal_radius_users.c.username)

portal_sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("username", sa.String(253), nullable=False),
    sa.Column("session_id", sa.String(253), nullable=False),
    sa.Column("start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stop", sa.DateTime(timezone=True)),
    sa.Column("duration", sa.BigInteger),
    sa.Column("input_octets", sa.BigInteger, nullable=False),
    sa.Column("output_octets", sa.BigInteger, nullable=False),
    sa.Column("framed_ip", sa.String(45), nullable=False, server_default=""),
    sa.Column("terminate_cause", sa.String(64), nullable=False, server_default=""),
)
sa.Index(None, portal_sessions.c.tenant_id, portal_sessions.c.customer_id, portal_sessions.c.start)

portal_radius_sources = sa.Table(
    "portal_radius_sources",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("last_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def session_row_id(tenant_id: str, key: str) -> str:
    return hashlib.sha256(f"{tenant_id}\x1f{key}".encode()).hexdigest()


class Connections(Projection):
    name = "portal_connections"
    tables = (portal_radius_users, portal_sessions, portal_radius_sources)

    @handles(RadiusSource.Configured)
    def source_configured(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            portal_radius_sources,
            dict(tenant_id=e.tenant_id, active=e.active, last_id=0, updated_at=e.timestamp.astimezone(UTC)),
        )

    @handles(RadiusSource.Changed, RadiusSource.CursorAdvanced)
    def source_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {"updated_at": e.timestamp.astimezone(UTC)}
        if isinstance(e, RadiusSource.Changed):
            values["active"] = e.active
        else:
            values["last_id"] = e.last_id
        w.update(portal_radius_sources, {"tenant_id": e.tenant_id}, values)

    @handles(Customer.Updated)
    def customer_updated(self, env: Envelope, w: Writer) -> None:
        e = env.event
        if "radius_username" not in e.changes:
            return
        customer_id = str(e.originator_id)
        w.delete(portal_radius_users, {"customer_id": customer_id})
        if e.changes["radius_username"]:
            w.insert(
                portal_radius_users,
                dict(customer_id=customer_id, tenant_id=e.tenant_id, username=e.changes["radius_username"]),
            )

    @handles(ConnectionDay.SessionsRecorded)
    def sessions(self, env: Envelope, w: Writer) -> None:
        e = env.event
        for s in e.sessions:
            start = _instant(s["start"])
            stop = _instant(s.get("stop"))
            assert start is not None
            values = dict(
                tenant_id=e.tenant_id,
                customer_id=e.customer_id,
                day=start.astimezone(ZONE).date(),
                source=s["source"],
                username=s["username"],
                session_id=s["session_id"],
                start=start,
                stop=stop,
                duration=int((stop - start).total_seconds()) if stop else None,
                input_octets=int(s["input_octets"]),
                output_octets=int(s["output_octets"]),
                framed_ip=s.get("framed_ip", ""),
                terminate_cause=s.get("terminate_cause", ""),
            )
            rid = session_row_id(e.tenant_id, s["key"])
            if w.select_one(portal_sessions, {"id": rid}) is None:
                w.insert(portal_sessions, {"id": rid, **values})
            else:
                w.update(portal_sessions, {"id": rid}, values)


# Queries ------------------------------------------------------------------------------------------
def customer_for_username(conn: Connection, tenant_id: str, username: str) -> str | None:
    t = portal_radius_users
    r = conn.execute(
        sa.select(t.c.customer_id)
        .where(t.c.tenant_id == tenant_id, t.c.username == username)
        .order_by(t.c.customer_id)
        .limit(1)
    ).first()
    return r[0] if r else None


def active_radius_tenants(conn: Connection) -> list[str]:
    t = portal_radius_sources
    return [
        r[0]
        for r in conn.execute(sa.select(t.c.tenant_id).where(t.c.active.is_(True)).order_by(t.c.tenant_id))
    ]


def _session(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    for k in ("start", "stop"):
        if d[k] is not None and d[k].tzinfo is None:
            d[k] = d[k].replace(tzinfo=UTC)
    d.pop("tenant_id", None)
    return d


def list_sessions(
    conn: Connection,
    tenant_id: str,
    customer_id: str,
    *,
    start: datetime,
    end: datetime,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    t = portal_sessions
    where = [t.c.tenant_id == tenant_id, t.c.customer_id == customer_id, t.c.start >= start, t.c.start < end]
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(t).where(*where).order_by(t.c.start.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return page_result([_session(r) for r in rows], total, page, per_page)


def daily_usage(
    conn: Connection, tenant_id: str, customer_id: str, first: date, last: date
) -> list[dict[str, Any]]:
    """One entry per local day from `first` to `last` (days without sessions are zero)."""
    t = portal_sessions
    rows = conn.execute(
        sa.select(t.c.day, sa.func.sum(t.c.input_octets), sa.func.sum(t.c.output_octets), sa.func.count())
        .where(t.c.tenant_id == tenant_id, t.c.customer_id == customer_id, t.c.day >= first, t.c.day <= last)
        .group_by(t.c.day)
    ).all()
    by_day = {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3])) for r in rows}
    out = []
    day = first
    while day <= last:
        inp, outp, count = by_day.get(day, (0, 0, 0))
        out.append({"day": day, "input_octets": inp, "output_octets": outp, "sessions": count})
        day += timedelta(days=1)
    return out
