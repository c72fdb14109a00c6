"""Ticket queue: one row per ticket with status, assignee and SLA due times, for queues,
filters, counters, the dashboard and the SLA job's candidate search.

"Breached now" is decided at query time against the caller's clock: a target is breached when
a breach was recorded, or when its clock runs and its due time has passed (the periodic job may
not have recorded it yet). Met targets (a public first reply, a resolution) never count.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.shared.clock import as_utc
from retaguarda.support.domain import ACTIVE_STATUSES, TARGETS, Ticket

support_tickets = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("number", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("category", sa.String(80), nullable=False, server_default=""),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("assignee_id", sa.String(36)),
    sa.Column("opened_by", sa.String(10), nullable=False),
    sa.Column("public_comments", sa.Integer, nullable=False, server_default="0"),
    sa.Column("internal_notes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_response_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("first_response_due", sa.DateTime(timezone=True)),
    sa.Column("first_response_warn_at", sa.DateTime(timezone=True)),
    sa.Column("first_response_running", sa.Boolean, nullable=False),
    sa.Column("first_response_warned", sa.Boolean, nullable=False),
    sa.Column("first_response_breached", sa.Boolean, nullable=False),
    sa.Column("resolution_due", sa.DateTime(timezone=True)),
    sa.Column("resolution_warn_at", sa.DateTime(timezone=True)),
    sa.Column("resolution_running", sa.Boolean, nullable=False),
    sa.Column("resolution_warned", sa.Boolean, nullable=False),
    sa.Column("resolution_breached", sa.Boolean, nullable=False),
    sa.Column("resolution_minutes", sa.Integer),
    sa.Column("business_resolution_minutes", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Index(None, support_tickets.c.tenant_id, support_tickets.c.number, unique=True)
sa.Index(None, support_tickets.c.tenant_id, support_tickets.c.status)
sa.Index(None, support_tickets.c.tenant_id, support_tickets.c.assignee_id)
sa.Index(None, support_tickets.c.tenant_id, support_tickets.c.customer_id)


def utc(value: datetime | None) -> datetime | None:
    """Rows hold UTC (SQLite stores the wall time it is given, whatever the zone)."""
    return value.astimezone(timezone.utc) if value is not None else None


def _clock_values(clocks: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for target in TARGETS:
        c = clocks[target]
        values[f"{target}_due"] = utc(c["due"])
        values[f"{target}_warn_at"] = utc(c["warn_at"])
        values[f"{target}_running"] = c["since"] is not None
    return values


class TicketQueue(Projection):
    name = "support_ticket_queue"
    tables = (support_tickets,)

    @handles(Ticket.Opened)
    def opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(support_tickets, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, number=e.number, customer_id=e.customer_id,
            title=e.title, category=e.category, priority=e.priority, channel=e.channel, status="open",
            assignee_id=None, opened_by=e.opened_by, public_comments=0, internal_notes=0,
            opened_at=utc(e.timestamp), updated_at=utc(e.timestamp), first_response_at=None, resolved_at=None,
            closed_at=None, first_response_warned=False, first_response_breached=False,
            resolution_warned=False, resolution_breached=False, resolution_minutes=None,
            business_resolution_minutes=None, version=e.originator_version, **_clock_values(e.clocks),
        ))

    @handles(Ticket.Edited)
    def edited(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {k: v for k, v in env.event.changes.items() if k in ("title", "category")})

    @handles(Ticket.PriorityChanged)
    def priority_changed(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"priority": env.event.priority, **_clock_values(env.event.clocks)})

    @handles(Ticket.Assigned)
    def assigned(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"assignee_id": env.event.assignee_id})

    @handles(Ticket.CommentAdded)
    def commented(self, env: Envelope, w: Writer) -> None:
        e = env.event
        column = "public_comments" if e.visibility == "public" else "internal_notes"
        # Read, then set (an SQL expression would name the live table, not a replay's aside copy).
        row = w.select_one(support_tickets, {"id": str(e.originator_id)})
        count = (getattr(row, column) or 0) + 1 if row is not None else 1
        values: dict[str, Any] = {column: count, **_clock_values(e.clocks)}
        if e.first_response:
            values["first_response_at"] = utc(e.timestamp)
        self._touch(w, env, values)

    @handles(Ticket.StatusChanged)
    def status_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {"status": e.status, **_clock_values(e.clocks)}
        if e.status == "resolved":
            values.update(resolved_at=utc(e.timestamp), resolution_minutes=e.resolution_minutes,
                          business_resolution_minutes=e.business_resolution_minutes)
        elif e.status == "closed":
            values["closed_at"] = utc(e.timestamp)
        elif e.status == "reopened":
            values.update(resolved_at=None, resolution_minutes=None, business_resolution_minutes=None)
        self._touch(w, env, values)

    @handles(Ticket.SlaWarning)
    def warned(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {f"{env.event.target}_warned": True})

    @handles(Ticket.SlaBreached)
    def breached(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {f"{env.event.target}_breached": True})

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(support_tickets, {"id": str(env.event.originator_id)},
                 {**values, "version": env.event.originator_version, "updated_at": utc(env.event.timestamp)})


# Queries -------------------------------------------------------------------------------

t = support_tickets
_ACTIVE = t.c.status.in_(ACTIVE_STATUSES)


def _breached(now: datetime) -> Any:
    now = utc(now)
    first = sa.and_(t.c.first_response_at.is_(None), sa.or_(
        t.c.first_response_breached, sa.and_(t.c.first_response_running, t.c.first_response_due <= now)))
    resolution = sa.or_(t.c.resolution_breached,
                        sa.and_(t.c.resolution_running, t.c.resolution_due <= now))
    return sa.and_(_ACTIVE, sa.or_(first, resolution))


def _warning(now: datetime) -> Any:
    now = utc(now)
    first = sa.and_(t.c.first_response_at.is_(None), sa.or_(
        t.c.first_response_warned, sa.and_(t.c.first_response_running, t.c.first_response_warn_at <= now)))
    resolution = sa.or_(t.c.resolution_warned,
                        sa.and_(t.c.resolution_running, t.c.resolution_warn_at <= now))
    return sa.and_(_ACTIVE, sa.not_(_breached(now)), sa.or_(first, resolution))


def _paused() -> Any:
    return sa.and_(_ACTIVE, t.c.status == "waiting_customer")


SLA_FILTERS = ("breached", "warning", "paused", "ok")


def sla_state(row: dict[str, Any], now: datetime) -> str:
    """breached | warning | paused | ok (active tickets); met | missed once resolved or closed."""
    def passed(at: Any) -> bool:
        return at is not None and as_utc(at) <= now

    if row["status"] not in ACTIVE_STATUSES:
        late = row["resolution_breached"] or row["first_response_breached"]
        return "missed" if late else "met"
    fr_open = row["first_response_at"] is None
    if (fr_open and (row["first_response_breached"] or (row["first_response_running"]
                                                        and passed(row["first_response_due"])))) \
            or row["resolution_breached"] or (row["resolution_running"] and passed(row["resolution_due"])):
        return "breached"
    if row["status"] == "waiting_customer":
        return "paused"
    if (fr_open and (row["first_response_warned"] or (row["first_response_running"]
                                                      and passed(row["first_response_warn_at"])))) \
            or row["resolution_warned"] or (row["resolution_running"] and passed(row["resolution_warn_at"])):
        return "warning"
    return "ok"


def _row(r: Any, now: datetime) -> dict[str, Any]:
    row = dict(r._mapping)
    for key in ("opened_at", "updated_at", "first_response_at", "resolved_at", "closed_at",
                "first_response_due", "first_response_warn_at", "resolution_due", "resolution_warn_at"):
        row[key] = as_utc(row[key])
    for key in ("first_response_running", "first_response_warned", "first_response_breached",
                "resolution_running", "resolution_warned", "resolution_breached"):
        row[key] = bool(row[key])
    row["sla"] = sla_state(row, now)
    # The next due time a person should care about: first response until met, then resolution.
    row["next_due"] = row["first_response_due"] if row["first_response_at"] is None else row["resolution_due"]
    row["next_target"] = "first_response" if row["first_response_at"] is None else "resolution"
    return row


def _where(tenant_id: str, now: datetime, *, status: str = "", priority: str = "", assignee: str = "",
           customer: str = "", sla: str = "", search: str = "", active: bool = False) -> list[Any]:
    where: list[Any] = [t.c.tenant_id == tenant_id]
    if status == "active":
        where.append(_ACTIVE)
    elif status:
        where.append(t.c.status == status)
    if active:
        where.append(_ACTIVE)
    if priority:
        where.append(t.c.priority == priority)
    if assignee == "none":
        where.append(t.c.assignee_id.is_(None))
    elif assignee:
        where.append(t.c.assignee_id == assignee)
    if customer:
        where.append(t.c.customer_id == customer)
    if sla == "breached":
        where.append(_breached(now))
    elif sla == "warning":
        where.append(_warning(now))
    elif sla == "paused":
        where.append(sa.and_(_paused(), sa.not_(_breached(now))))
    elif sla == "ok":
        where.append(sa.and_(_ACTIVE, t.c.status != "waiting_customer", sa.not_(_breached(now)),
                             sa.not_(_warning(now))))
    if search:
        term = search.strip()
        like = f"%{term.lower()}%"
        where.append(sa.or_(sa.func.lower(t.c.title).like(like), sa.func.lower(t.c.number).like(like)))
    return where


def list_tickets(conn: Connection, tenant_id: str, now: datetime, *, page: int = 1, per_page: int = 20,
                 sort: str = "newest", **filters: Any) -> dict[str, Any]:
    from projections.customers.customer_list import customers

    where = _where(tenant_id, now, **filters)
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    if sort == "due":
        nxt = sa.case((t.c.first_response_at.is_(None), t.c.first_response_due), else_=t.c.resolution_due)
        order = [sa.case((_ACTIVE, 0), else_=1), nxt.is_(None), nxt, t.c.number]
    else:
        order = [t.c.opened_at.desc(), t.c.number.desc()]
    rows = conn.execute(
        sa.select(t, customers.c.name.label("customer_name"))
        .select_from(t.outerjoin(customers, sa.and_(customers.c.id == t.c.customer_id,
                                                     customers.c.tenant_id == t.c.tenant_id)))
        .where(*where).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return page_result([_row(r, now) for r in rows], total, page, per_page)


def get_ticket_row(conn: Connection, tenant_id: str, ticket_id: str, now: datetime) -> dict[str, Any] | None:
    r = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == ticket_id)).first()
    return _row(r, now) if r else None


def queue_counts(conn: Connection, tenant_id: str, user_id: str, now: datetime) -> dict[str, int]:
    """Active tickets per queue: mine, unassigned, all, breached (for the queue tabs)."""
    base = [t.c.tenant_id == tenant_id, _ACTIVE]
    one = sa.literal(1)
    row = conn.execute(sa.select(
        sa.func.count(),
        sa.func.sum(sa.case((t.c.assignee_id == user_id, one), else_=0)),
        sa.func.sum(sa.case((t.c.assignee_id.is_(None), one), else_=0)),
        sa.func.sum(sa.case((_breached(now), one), else_=0)),
    ).where(*base)).one()
    return {"all": int(row[0] or 0), "mine": int(row[1] or 0), "unassigned": int(row[2] or 0),
            "breached": int(row[3] or 0)}


def dashboard_counts(conn: Connection, tenant_id: str, now: datetime, month_start: datetime) -> dict[str, int]:
    one = sa.literal(1)
    month_start = utc(month_start)
    row = conn.execute(sa.select(
        sa.func.sum(sa.case((_ACTIVE, one), else_=0)),
        sa.func.sum(sa.case((_breached(now), one), else_=0)),
        sa.func.sum(sa.case((sa.and_(t.c.resolved_at.is_not(None), t.c.resolved_at >= month_start), one),
                            else_=0)),
    ).where(t.c.tenant_id == tenant_id)).one()
    return {"open": int(row[0] or 0), "breached": int(row[1] or 0), "resolved_this_month": int(row[2] or 0)}


def sla_candidates(conn: Connection, now: datetime, limit: int = 1000) -> list[str]:
    """Active tickets (any tenant) whose running clock crossed 80 % or 100 % without an event yet."""
    now = utc(now)
    conds = []
    for target in TARGETS:
        due, warn = t.c[f"{target}_due"], t.c[f"{target}_warn_at"]
        running, warned, breached = (t.c[f"{target}_running"], t.c[f"{target}_warned"],
                                     t.c[f"{target}_breached"])
        unmet = t.c.first_response_at.is_(None) if target == "first_response" else sa.true()
        conds.append(sa.and_(unmet, running, sa.or_(
            sa.and_(sa.not_(breached), due <= now),
            sa.and_(sa.not_(warned), sa.not_(breached), warn <= now))))
    rows = conn.execute(sa.select(t.c.id).where(_ACTIVE, sa.or_(*conds))
                        .order_by(t.c.opened_at).limit(limit)).all()
    return [r.id for r in rows]
