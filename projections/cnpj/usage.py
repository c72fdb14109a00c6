"""Usage metering: checks per tenant per day (São Paulo), split by provider, cache hit and outcome."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.cnpj.domain import CnpjCheck
from retaguarda.shared.clock import SAO_PAULO

usage = sa.Table(
    "cnpj_usage",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("cache_hit", sa.Boolean, primary_key=True),
    sa.Column("outcome", sa.String(12), primary_key=True),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("checks", sa.Integer, nullable=False),
)
sa.Index(None, usage.c.tenant_id, usage.c.month)

BILLABLE = ("completed", "not_found")


class CnpjUsage(Projection):
    name = "cnpj_usage"
    tables = (usage,)

    @handles(CnpjCheck.Completed)
    def completed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._count(w, e, e.provider, bool(e.cache_hit), "completed" if e.found else "not_found")

    @handles(CnpjCheck.Failed)
    def failed(self, env: Envelope, w: Writer) -> None:
        self._count(w, env.event, "none", False, "failed")

    def _count(self, w: Writer, e: Any, provider: str, cache_hit: bool, outcome: str) -> None:
        day = e.timestamp.astimezone(SAO_PAULO).strftime("%Y-%m-%d")
        key = {"tenant_id": e.tenant_id, "day": day, "provider": provider, "cache_hit": cache_hit,
               "outcome": outcome}
        row = w.select_one(usage, key)
        if row is None:
            w.insert(usage, {**key, "month": day[:7], "checks": 1})
        else:
            w.update(usage, key, {"checks": row.checks + 1})


def month_usage(conn: Connection, tenant_id: str, month: str) -> int:
    """Billable checks (completed or not found, cache hits included) of the month."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(usage.c.checks), 0)).where(
        usage.c.tenant_id == tenant_id, usage.c.month == month, usage.c.outcome.in_(BILLABLE))).scalar() or 0)


def usage_report(conn: Connection, tenant_id: str, month: str) -> dict[str, Any]:
    rows = conn.execute(sa.select(usage).where(usage.c.tenant_id == tenant_id, usage.c.month == month)
                        .order_by(usage.c.day)).all()
    days: dict[str, dict[str, Any]] = {}
    by_provider: dict[str, int] = {}
    totals = {"checks": 0, "billable": 0, "cache_hits": 0, "cache_misses": 0, "failed": 0, "not_found": 0}
    for r in rows:
        d = days.setdefault(r.day, {"day": r.day, "checks": 0, "cache_hits": 0, "failed": 0, "by_provider": {}})
        d["checks"] += r.checks
        d["by_provider"][r.provider] = d["by_provider"].get(r.provider, 0) + r.checks
        totals["checks"] += r.checks
        if r.outcome in BILLABLE:
            totals["billable"] += r.checks
        if r.outcome == "failed":
            d["failed"] += r.checks
            totals["failed"] += r.checks
        elif r.cache_hit:
            d["cache_hits"] += r.checks
            totals["cache_hits"] += r.checks
        else:
            totals["cache_misses"] += r.checks
        if r.outcome == "not_found":
            totals["not_found"] += r.checks
        by_provider[r.provider] = by_provider.get(r.provider, 0) + r.checks
    return {"month": month, "totals": totals, "by_provider": by_provider, "days": list(days.values())}
