"""Scheduled reports (list, the periodic job's candidates) and every sending (the History tab)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.reports.domain import ScheduledReport

reports_schedules = sa.Table(
    "reports_schedules",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("format", sa.String(5), nullable=False),
    sa.Column("frequency", sa.String(8), nullable=False),
    sa.Column("weekday", sa.Integer),
    sa.Column("day", sa.Integer),
    sa.Column("time", sa.String(5), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_period", sa.String(10), nullable=False, server_default=""),
    sa.Column("sendings", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_sent_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Index(None, reports_schedules.c.deleted, reports_schedules.c.paused)

reports_sendings = sa.Table(
    "reports_sendings",
    metadata,
    sa.Column("schedule_id", sa.String(36), primary_key=True),
    sa.Column("request_id", sa.String(60), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("period", sa.String(10), nullable=False, server_default=""),
    sa.Column("manual", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("filename", sa.String(120), nullable=False, server_default=""),
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("emails", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.String(1000), nullable=False, server_default=""),
)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Schedules(Projection):
    name = "reports_schedules"
    tables = (reports_schedules, reports_sendings)

    @handles(ScheduledReport.Created)
    def created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_schedules,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                kind=e.kind,
                format=e.format,
                frequency=e.frequency,
                weekday=e.weekday,
                day=e.day,
                time=e.time,
                recipients=list(e.recipients),
                filters=dict(e.filters),
                paused=False,
                deleted=False,
                last_period="",
                sendings=0,
                last_sent_at=None,
                created_at=_utc(e.timestamp),
                version=e.originator_version,
            ),
        )

    @handles(ScheduledReport.Changed)
    def changed(self, env: Envelope, w: Writer) -> None:
        values = {k: v for k, v in env.event.changes.items() if k in reports_schedules.c}
        self._touch(env, w, values)

    @handles(ScheduledReport.Deleted)
    def deleted(self, env: Envelope, w: Writer) -> None:
        self._touch(env, w, {"deleted": True})

    @handles(ScheduledReport.SendRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_sendings,
            dict(
                schedule_id=str(e.originator_id),
                request_id=e.request_id,
                tenant_id=e.tenant_id,
                period=e.period,
                manual=e.manual,
                status="requested",
                requested_at=_utc(e.timestamp),
                finished_at=None,
                filename="",
                rows=0,
                emails=0,
                error="",
            ),
        )
        self._touch(env, w, {"last_period": e.period} if e.period else {})

    @handles(ScheduledReport.Sent)
    def sent(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            reports_sendings,
            {"schedule_id": str(e.originator_id), "request_id": e.request_id},
            {
                "status": "sent",
                "finished_at": _utc(e.timestamp),
                "filename": e.filename,
                "rows": e.rows,
                "emails": len(e.email_ids),
            },
        )
        row = w.select_one(reports_schedules, {"id": str(e.originator_id)})
        self._touch(
            env,
            w,
            {"sendings": (row.sendings if row is not None else 0) + 1, "last_sent_at": _utc(e.timestamp)},
        )

    @handles(ScheduledReport.SendFailed)
    def failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            reports_sendings,
            {"schedule_id": str(e.originator_id), "request_id": e.request_id},
            {"status": "failed", "finished_at": _utc(e.timestamp), "error": e.error},
        )
        self._touch(env, w, {})

    def _touch(self, env: Envelope, w: Writer, values: dict[str, Any]) -> None:
        w.update(
            reports_schedules,
            {"id": str(env.event.originator_id)},
            {**values, "version": env.event.originator_version},
        )


# Queries -------------------------------------------------------------------------------------
def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "format": r.format,
        "frequency": r.frequency,
        "weekday": r.weekday,
        "day": r.day,
        "time": r.time,
        "recipients": list(r.recipients or []),
        "filters": dict(r.filters or {}),
        "paused": bool(r.paused),
        "last_period": r.last_period,
        "sendings": r.sendings,
        "last_sent_at": _utc(r.last_sent_at),
        "created_at": _utc(r.created_at),
        "version": r.version,
    }


def list_schedules(conn: Connection, tenant_id: str, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    t = reports_schedules
    return paginate(
        conn,
        t,
        [t.c.tenant_id == tenant_id, t.c.deleted.is_(False)],
        [t.c.created_at, t.c.id],
        page,
        per_page,
        _row,
    )


def get_schedule(conn: Connection, tenant_id: str, schedule_id: str) -> dict[str, Any] | None:
    t = reports_schedules
    r = conn.execute(
        sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == schedule_id, t.c.deleted.is_(False))
    ).first()
    return _row(r) if r is not None else None


def active_schedule_ids(conn: Connection) -> list[str]:
    """Every tenant's schedules that may be due (the periodic job re-checks each on its aggregate)."""
    t = reports_schedules
    return [
        r.id
        for r in conn.execute(
            sa.select(t.c.id).where(t.c.deleted.is_(False), t.c.paused.is_(False)).order_by(t.c.id)
        ).all()
    ]


def sendings(
    conn: Connection, tenant_id: str, schedule_id: str | None = None, page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    s = reports_sendings
    where = [s.c.tenant_id == tenant_id]
    if schedule_id:
        where.append(s.c.schedule_id == schedule_id)

    def row(r: Any) -> dict[str, Any]:
        return {
            "schedule_id": r.schedule_id,
            "request_id": r.request_id,
            "period": r.period,
            "manual": r.manual,
            "status": r.status,
            "requested_at": _utc(r.requested_at),
            "finished_at": _utc(r.finished_at),
            "filename": r.filename,
            "rows": r.rows,
            "emails": r.emails,
            "error": r.error,
        }

    return paginate(conn, s, where, [s.c.requested_at.desc(), s.c.request_id], page, per_page, row)
