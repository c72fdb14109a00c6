"""Service orders: one row per order (lists, agenda, dispatcher board, dashboard counters) and one
row per material used (monthly consumption, serial numbers per customer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.field.domain import OPEN_STATUSES, ServiceOrder

field_orders = sa.Table(
    "field_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("number", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("origin", sa.String(10), nullable=False),
    sa.Column("ticket_id", sa.String(36)),
    sa.Column("contract_id", sa.String(36)),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("address", sa.JSON, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("technician_id", sa.String(36)),
    sa.Column("window_start", sa.DateTime(timezone=True)),
    sa.Column("window_end", sa.DateTime(timezone=True)),
    sa.Column("reschedules", sa.Integer, nullable=False, server_default="0"),
    sa.Column("visits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("duration_minutes", sa.Integer),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("photos", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Index(None, field_orders.c.tenant_id, field_orders.c.number, unique=True)
sa.Index(None, field_orders.c.tenant_id, field_orders.c.status)
sa.Index(None, field_orders.c.tenant_id, field_orders.c.technician_id, field_orders.c.window_start)
sa.Index(None, field_orders.c.tenant_id, field_orders.c.customer_id)

field_materials = sa.Table(
    "field_materials",
    metadata,
    sa.Column("order_id", sa.String(36), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("sku", sa.String(60), nullable=False),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
    sa.Column("serial", sa.String(80), nullable=False, server_default=""),
)
sa.Index(None, field_materials.c.tenant_id, field_materials.c.month)


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


class ServiceOrders(Projection):
    name = "field_orders"
    tables = (field_orders, field_materials)

    @handles(ServiceOrder.Opened)
    def opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(field_orders, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, number=e.number, customer_id=e.customer_id,
            kind=e.kind, origin=e.origin, ticket_id=e.ticket_id, contract_id=e.contract_id, priority=e.priority,
            description=e.description, address=dict(e.address), status="open", technician_id=None,
            window_start=None, window_end=None, reschedules=0, visits=0, opened_at=utc(e.timestamp),
            started_at=None, finished_at=None, duration_minutes=None, reason="", photos=0,
            updated_at=utc(e.timestamp), version=e.originator_version))

    @handles(ServiceOrder.Scheduled)
    def scheduled(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(field_orders, {"id": str(e.originator_id)})
        reschedules = (row.reschedules if row is not None else 0) + (1 if e.previous else 0)
        self._touch(w, env, dict(status="scheduled", technician_id=e.technician_id, window_start=utc(e.start),
                                 window_end=utc(e.end), reschedules=reschedules))

    @handles(ServiceOrder.Dispatched)
    def dispatched(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"status": "en_route"})

    @handles(ServiceOrder.Started)
    def started(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(field_orders, {"id": str(env.event.originator_id)})
        visits = (row.visits if row is not None else 0) + 1
        self._touch(w, env, {"status": "in_progress", "started_at": utc(env.event.timestamp), "visits": visits})

    @handles(ServiceOrder.PhotoAdded)
    def photo(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(field_orders, {"id": str(env.event.originator_id)})
        self._touch(w, env, {"photos": (row.photos if row is not None else 0) + 1})

    @handles(ServiceOrder.Completed)
    def completed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(field_orders, {"id": str(e.originator_id)})
        finished = utc(e.timestamp)
        duration = None
        if row is not None and row.started_at is not None and finished is not None:
            duration = int((finished - utc(row.started_at)).total_seconds() // 60)  # type: ignore[operator]
        self._touch(w, env, {"status": "completed", "finished_at": finished, "duration_minutes": duration})
        if row is not None and finished is not None:
            for line, item in enumerate(e.materials):
                w.insert(field_materials, dict(
                    order_id=str(e.originator_id), line=line, tenant_id=e.tenant_id, customer_id=row.customer_id,
                    month=finished.strftime("%Y-%m"), sku=item["sku"], description=item.get("description", ""),
                    quantity=item["quantity"], serial=item.get("serial", "")))

    @handles(ServiceOrder.Failed, ServiceOrder.Cancelled)
    def ended(self, env: Envelope, w: Writer) -> None:
        status = "failed" if isinstance(env.event, ServiceOrder.Failed) else "cancelled"
        self._touch(w, env, {"status": status, "finished_at": utc(env.event.timestamp), "reason": env.event.reason})

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(field_orders, {"id": str(env.event.originator_id)},
                 {**values, "updated_at": utc(env.event.timestamp), "version": env.event.originator_version})


# Queries ---------------------------------------------------------------------------------------
def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "number": r.number, "customer_id": r.customer_id, "kind": r.kind, "origin": r.origin,
        "ticket_id": r.ticket_id, "contract_id": r.contract_id, "priority": r.priority,
        "description": r.description, "address": r.address or {}, "status": r.status,
        "technician_id": r.technician_id, "start": _iso(r.window_start), "end": _iso(r.window_end),
        "reschedules": r.reschedules, "opened_at": _iso(r.opened_at), "started_at": _iso(r.started_at),
        "finished_at": _iso(r.finished_at), "duration_minutes": r.duration_minutes, "reason": r.reason,
        "photos": r.photos, "version": r.version,
    }


def _iso(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None  # type: ignore[union-attr]


def list_orders(conn: Connection, tenant_id: str, *, status: str | None = None, technician: str | None = None,
                customer: str | None = None, ticket: str | None = None, day_from: datetime | None = None, day_to: datetime | None = None,
                unscheduled: bool = False, page: int = 1, per_page: int = 25) -> dict[str, Any]:
    t = field_orders
    where: list[Any] = [t.c.tenant_id == tenant_id]
    if status == "pending":
        where.append(t.c.status.in_(OPEN_STATUSES))
    elif status:
        where.append(t.c.status == status)
    if technician:
        where.append(t.c.technician_id == technician)
    if customer:
        where.append(t.c.customer_id == customer)
    if ticket:
        where.append(t.c.ticket_id == ticket)
    if day_from is not None and day_to is not None:
        where += [t.c.window_start >= day_from, t.c.window_start < day_to]
    if unscheduled:
        where.append(t.c.window_start.is_(None))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.window_start.is_(None), t.c.window_start,
                                                            t.c.number.desc())
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_row(r) for r in rows], total, page, per_page)


def get_order(conn: Connection, tenant_id: str, order_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(field_orders).where(field_orders.c.tenant_id == tenant_id,
                                                   field_orders.c.id == order_id)).first()
    return _row(r) if r is not None else None


def agenda(conn: Connection, tenant_id: str, technician_id: str, day_from: datetime,
           day_to: datetime) -> list[dict[str, Any]]:
    """A technician's visits starting in [day_from, day_to), in time order (cancelled ones left out)."""
    t = field_orders
    rows = conn.execute(sa.select(t).where(
        t.c.tenant_id == tenant_id, t.c.technician_id == technician_id, t.c.window_start >= day_from,
        t.c.window_start < day_to, t.c.status != "cancelled").order_by(t.c.window_start)).all()
    return [_row(r) for r in rows]


def counts(conn: Connection, tenant_id: str, month_from: datetime, month_to: datetime) -> dict[str, int]:
    """Pending orders now and orders completed in [month_from, month_to)."""
    t = field_orders
    pending = conn.execute(sa.select(sa.func.count()).select_from(t).where(
        t.c.tenant_id == tenant_id, t.c.status.in_(OPEN_STATUSES))).scalar() or 0
    completed = conn.execute(sa.select(sa.func.count()).select_from(t).where(
        t.c.tenant_id == tenant_id, t.c.status == "completed", t.c.finished_at >= month_from,
        t.c.finished_at < month_to)).scalar() or 0
    return {"pending": int(pending), "completed": int(completed)}


def productivity(conn: Connection, tenant_id: str, month_from: datetime, month_to: datetime) -> list[dict[str, Any]]:
    """Per technician in the period: orders done, per working day, median duration, first-visit success."""
    t = field_orders
    rows = conn.execute(sa.select(t.c.technician_id, t.c.status, t.c.duration_minutes, t.c.visits,
                                  t.c.finished_at).where(
        t.c.tenant_id == tenant_id, t.c.technician_id.is_not(None), t.c.finished_at >= month_from,
        t.c.finished_at < month_to, t.c.status.in_(("completed", "failed")))).all()
    by_tech: dict[str, list[Any]] = {}
    for r in rows:
        by_tech.setdefault(r.technician_id, []).append(r)
    out = []
    for tech, items in sorted(by_tech.items()):
        done = [r for r in items if r.status == "completed"]
        durations = sorted(r.duration_minutes for r in done if r.duration_minutes is not None)
        days = {utc(r.finished_at).date() for r in done}  # type: ignore[union-attr]
        first_visit = [r for r in done if r.visits <= 1]
        median = None
        if durations:
            mid = len(durations) // 2
            median = durations[mid] if len(durations) % 2 else (durations[mid - 1] + durations[mid]) / 2
        out.append({"technician_id": tech, "completed": len(done), "failed": len(items) - len(done),
                    "per_day": round(len(done) / len(days), 2) if days else 0, "median_minutes": median,
                    "first_visit_rate": round(len(first_visit) / len(items), 3) if items else None})
    return out


def materials_by_month(conn: Connection, tenant_id: str, month: str) -> list[dict[str, Any]]:
    m = field_materials
    rows = conn.execute(sa.select(m.c.sku, m.c.description, sa.func.sum(m.c.quantity).label("quantity"),
                                  sa.func.count().label("lines")).where(
        m.c.tenant_id == tenant_id, m.c.month == month).group_by(m.c.sku, m.c.description).order_by(m.c.sku)).all()
    return [{"sku": r.sku, "description": r.description, "quantity": str(r.quantity), "lines": r.lines}
            for r in rows]
