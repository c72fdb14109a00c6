"""Technician performance: one row per resolved ticket (its latest resolution), credited to the
assignee at the time of resolution, with business-time resolution minutes and whether every
SLA target was kept. The page aggregates per technician and month (São Paulo time): resolved
count, median and p90 business minutes, SLA compliance %.

A reopened ticket leaves the figures until it is resolved again.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.support.domain import Ticket

UNASSIGNED = ""

# Per-ticket facts the resolution needs (assignee now, was any target breached).
support_perf_tickets = sa.Table(
    "support_perf_tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("assignee_id", sa.String(36), nullable=False, server_default=""),
    sa.Column("breached", sa.Boolean, nullable=False),
)

support_resolutions = sa.Table(
    "support_resolutions",
    metadata,
    sa.Column("ticket_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("technician_id", sa.String(36), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("business_minutes", sa.Integer, nullable=False),
    sa.Column("wall_minutes", sa.Integer, nullable=False),
    sa.Column("sla_met", sa.Boolean, nullable=False),
)
sa.Index(None, support_resolutions.c.tenant_id, support_resolutions.c.month)


class TechnicianPerformance(Projection):
    name = "support_technician_performance"
    tables = (support_perf_tickets, support_resolutions)

    @handles(Ticket.Opened)
    def opened(self, env: Envelope, w: Writer) -> None:
        w.insert(support_perf_tickets, dict(id=str(env.event.originator_id), tenant_id=env.event.tenant_id,
                                            assignee_id=UNASSIGNED, breached=False))

    @handles(Ticket.Assigned)
    def assigned(self, env: Envelope, w: Writer) -> None:
        w.update(support_perf_tickets, {"id": str(env.event.originator_id)},
                 {"assignee_id": env.event.assignee_id or UNASSIGNED})

    @handles(Ticket.SlaBreached)
    def breached(self, env: Envelope, w: Writer) -> None:
        w.update(support_perf_tickets, {"id": str(env.event.originator_id)}, {"breached": True})

    @handles(Ticket.StatusChanged)
    def status_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        ticket_id = str(e.originator_id)
        if e.status == "resolved":
            facts = w.select_one(support_perf_tickets, {"id": ticket_id})
            w.delete(support_resolutions, {"ticket_id": ticket_id})
            w.insert(support_resolutions, dict(
                ticket_id=ticket_id, tenant_id=e.tenant_id,
                technician_id=facts.assignee_id if facts else UNASSIGNED,
                month=e.timestamp.astimezone(SAO_PAULO).strftime("%Y-%m"), resolved_at=e.timestamp.astimezone(timezone.utc),
                business_minutes=e.business_resolution_minutes or 0, wall_minutes=e.resolution_minutes or 0,
                sla_met=not (facts.breached if facts else False),
            ))
        elif e.status == "reopened":
            w.delete(support_resolutions, {"ticket_id": ticket_id})


def _percentile(values: list[int], share: float) -> float:
    """Nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-int(round(share * 100)) * len(ordered) // 100))
    return float(ordered[rank - 1])


def performance(conn: Connection, tenant_id: str, *, month: str = "", technician: str = "") -> list[dict[str, Any]]:
    """Per technician and month: resolved, median/p90 business minutes, SLA compliance %."""
    r = support_resolutions
    where = [r.c.tenant_id == tenant_id]
    if month:
        where.append(r.c.month == month)
    if technician:
        where.append(r.c.technician_id == technician)
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in conn.execute(sa.select(r.c.technician_id, r.c.month, r.c.business_minutes, r.c.sla_met)
                            .where(*where)):
        groups.setdefault((row.month, row.technician_id), []).append(row)
    out = []
    for (month_, tech), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1]), reverse=True):
        minutes = [x.business_minutes for x in rows]
        met = sum(1 for x in rows if x.sla_met)
        out.append({
            "month": month_, "technician_id": tech or None, "resolved": len(rows),
            "median_business_minutes": float(statistics.median(minutes)),
            "p90_business_minutes": _percentile(minutes, 0.9),
            "sla_compliance": round(100.0 * met / len(rows), 1),
        })
    return out


def months(conn: Connection, tenant_id: str) -> list[str]:
    r = support_resolutions
    return [m for (m,) in conn.execute(sa.select(r.c.month).where(r.c.tenant_id == tenant_id)
                                       .distinct().order_by(r.c.month.desc()))]


def current_month(now: datetime) -> str:
    return now.astimezone(SAO_PAULO).strftime("%Y-%m")
