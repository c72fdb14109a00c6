"""Operational tables of the campaigns context that are not projections: the log of status
callbacks POSTed to the tenant's WordPress site (one row per attempt)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from projections.base import metadata, page_result
from retaguarda.shared.clock import as_utc

campaign_callbacks = sa.Table(
    "campaign_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("campaign_id", sa.String(36), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("url", sa.String(500), nullable=False, server_default=""),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.String(500), nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, campaign_callbacks.c.tenant_id, campaign_callbacks.c.campaign_id)


def record_callback(engine: Engine, **row: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(campaign_callbacks).values(**row))


def list_callbacks(conn: Connection, tenant_id: str, campaign_id: str | None = None, *, page: int = 1,
                   per_page: int = 50) -> dict[str, Any]:
    t = campaign_callbacks
    where = [t.c.tenant_id == tenant_id]
    if campaign_id:
        where.append(t.c.campaign_id == campaign_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.id.desc())
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([{"id": r.id, "campaign_id": r.campaign_id, "event": r.event, "status": r.status,
                         "url": r.url, "attempt": r.attempt, "outcome": r.outcome,
                         "http_status": r.http_status, "error": r.error, "at": as_utc(r.at)}
                        for r in rows], total, page, per_page)


def last_callbacks(conn: Connection, campaign_id: str) -> list[dict[str, Any]]:
    t = campaign_callbacks
    rows = conn.execute(sa.select(t).where(t.c.campaign_id == campaign_id).order_by(t.c.id)).all()
    return [{"event": r.event, "status": r.status, "attempt": r.attempt, "outcome": r.outcome,
             "http_status": r.http_status, "error": r.error, "at": as_utc(r.at)} for r in rows]
