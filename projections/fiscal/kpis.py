"""Fiscal KPIs: per month (America/Sao_Paulo) how many notes were issued, rejected, cancelled and
failed, and how long each took from the emission request to its authorization (milliseconds)."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.fiscal.domain import Nfse
from retaguarda.shared.clock import SAO_PAULO

COUNTERS = ("issued", "rejected", "cancelled", "failed")

kpi_months = sa.Table(
    "fiscal_kpi_months",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("issued", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancelled", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
)

kpi_latency = sa.Table(
    "fiscal_kpi_latency",
    metadata,
    sa.Column("nfse_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True)),
    sa.Column("milliseconds", sa.BigInteger),
    sa.Column("in_flight", sa.Boolean, nullable=False),
)
sa.Index(None, kpi_latency.c.tenant_id, kpi_latency.c.month)


def month_of(at: datetime) -> str:
    return at.astimezone(SAO_PAULO).strftime("%Y-%m")


class FiscalKpis(Projection):
    name = "fiscal_kpis"
    tables = (kpi_months, kpi_latency)

    def _bump(self, w: Writer, tenant_id: str, month: str, counter: str) -> None:
        key = {"tenant_id": tenant_id, "month": month}
        row = w.select_one(kpi_months, key)
        if row is None:
            w.insert(kpi_months, {**key, **{c: (1 if c == counter else 0) for c in COUNTERS}})
        else:
            w.update(kpi_months, key, {counter: getattr(row, counter) + 1})

    @handles(Nfse.EmissionRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        key = {"nfse_id": str(e.originator_id)}
        values = {"tenant_id": e.tenant_id, "month": month_of(e.timestamp), "requested_at": e.timestamp,
                  "milliseconds": None, "in_flight": True}
        if w.select_one(kpi_latency, key) is None:
            w.insert(kpi_latency, {**key, **values})
        else:
            w.update(kpi_latency, key, values)

    @handles(Nfse.EmissionRetryRequested)
    def retried(self, env: Envelope, w: Writer) -> None:
        w.update(kpi_latency, {"nfse_id": str(env.event.originator_id)}, {"in_flight": True})

    @handles(Nfse.Authorized)
    def authorized(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._bump(w, e.tenant_id, month_of(e.timestamp), "issued")
        row = w.select_one(kpi_latency, {"nfse_id": str(e.originator_id)})
        if row is not None and row.requested_at is not None:
            requested = row.requested_at
            if requested.tzinfo is None:
                requested = requested.replace(tzinfo=e.timestamp.tzinfo)
            ms = max(0, int(round((e.timestamp - requested).total_seconds() * 1000)))
            w.update(kpi_latency, {"nfse_id": row.nfse_id}, {"milliseconds": ms, "in_flight": False})

    @handles(Nfse.Rejected)
    def rejected(self, env: Envelope, w: Writer) -> None:
        self._bump(w, env.event.tenant_id, month_of(env.event.timestamp), "rejected")
        w.update(kpi_latency, {"nfse_id": str(env.event.originator_id)}, {"in_flight": False})

    @handles(Nfse.EmissionFailed)
    def failed(self, env: Envelope, w: Writer) -> None:
        self._bump(w, env.event.tenant_id, month_of(env.event.timestamp), "failed")
        w.update(kpi_latency, {"nfse_id": str(env.event.originator_id)}, {"in_flight": False})

    @handles(Nfse.Cancelled)
    def cancelled(self, env: Envelope, w: Writer) -> None:
        self._bump(w, env.event.tenant_id, month_of(env.event.timestamp), "cancelled")


def last_months(now: datetime, count: int = 12) -> list[str]:
    local = now.astimezone(SAO_PAULO)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def kpis(conn: Connection, tenant_id: str, now: datetime) -> dict[str, Any]:
    """This month's counters, pending now, the last 12 months, and the median seconds from the
    emission request to authorization (this month and over the 12 months)."""
    months = last_months(now)
    rows = {r.month: r for r in conn.execute(sa.select(kpi_months).where(
        kpi_months.c.tenant_id == tenant_id, kpi_months.c.month.in_(months)))}
    series = [{"month": m, **{c: int(getattr(rows[m], c)) if m in rows else 0 for c in COUNTERS}}
              for m in months]
    lat = conn.execute(sa.select(kpi_latency.c.month, kpi_latency.c.milliseconds.label("ms"),
                                 kpi_latency.c.in_flight)
                       .where(kpi_latency.c.tenant_id == tenant_id,
                              kpi_latency.c.month.in_(months))).all()
    this_month = months[-1]
    pending = sum(1 for r in lat if r.in_flight)
    done_all = [r.ms for r in lat if r.ms is not None]
    done_month = [r.ms for r in lat if r.ms is not None and r.month == this_month]
    for item in series:
        values = [r.ms for r in lat if r.ms is not None and r.month == item["month"]]
        item["median_seconds"] = _seconds(values)
    return {
        "month": this_month, "this_month": {**series[-1], "pending": pending}, "months": series,
        "median_seconds_this_month": _seconds(done_month),
        "median_seconds_12_months": _seconds(done_all),
    }


def _seconds(milliseconds: list[int]) -> float | None:
    """Median in seconds with millisecond resolution (None when nothing was authorized)."""
    return round(statistics.median(milliseconds) / 1000, 3) if milliseconds else None
