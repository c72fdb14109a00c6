"""Home-page cards and the queue dashboard's numbers (per provider queue: depth, in flight, retries,
dead letters, throughput per minute over the last hour)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from retaguarda.campaigns.domain import PROVIDERS
from retaguarda.i18n import gettext as _

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

QUEUES = ("campaigns",) + PROVIDERS


def broker_counts(broker: Any, queue: str) -> dict[str, int]:
    """Messages waiting, delayed and being worked on in one queue (StubBroker or Redis)."""
    from dramatiq.common import dq_name

    try:
        if hasattr(broker, "client"):  # Redis
            ns, client = broker.namespace, broker.client
            ready = int(client.llen(f"{ns}:{queue}"))
            stored = int(client.hlen(f"{ns}:{queue}.msgs"))
            delayed = int(client.hlen(f"{ns}:{dq_name(queue)}.msgs"))
            return {"depth": ready, "delayed": delayed, "in_flight": max(0, stored - ready)}
        queues = getattr(broker, "queues", {})
        q, dq = queues.get(queue), queues.get(dq_name(queue))
        ready = q.qsize() if q is not None else 0
        unfinished = getattr(q, "unfinished_tasks", ready) if q is not None else 0
        delayed = getattr(dq, "unfinished_tasks", 0) if dq is not None else 0
        return {"depth": ready, "delayed": delayed, "in_flight": max(0, unfinished - ready)}
    except Exception:  # a dashboard must render even when the broker is away
        return {"depth": -1, "delayed": -1, "in_flight": -1}


def queue_stats(container: Container, tenant_id: str) -> dict[str, Any]:
    from projections.campaigns.campaign_progress import (
        dead_letter_counts,
        queued_counts,
        recent_minutes,
        throughput,
    )
    from retaguarda.readdb import tenant_reader

    now = container.clock.now()
    minutes = recent_minutes(now, 60)
    with tenant_reader(container.engine, tenant_id) as conn:
        dead = dead_letter_counts(conn, tenant_id)
        waiting = queued_counts(conn, tenant_id)
        series = throughput(conn, tenant_id, minutes[0])
    out = []
    for queue in QUEUES:
        counts = broker_counts(container.broker, queue)
        points = {p["minute"].replace(second=0, microsecond=0): p for p in series.get(queue, [])}
        chart = [points.get(m, {}).get("sent", 0) for m in minutes]
        out.append({
            "queue": queue, **counts,
            "queued_messages": waiting.get(queue, {}).get("queued", 0),
            "waiting_retry": waiting.get(queue, {}).get("waiting_retry", 0),
            "retries_last_hour": sum(p.get("retries", 0) for p in series.get(queue, [])),
            "failed_last_hour": sum(p.get("failed", 0) for p in series.get(queue, [])),
            "dead_letters": dead.get(queue, 0),
            "sent_last_hour": sum(chart), "throughput": chart,
            "per_minute_now": chart[-1] if chart else 0,
        })
    return {"queues": out, "minutes": [m.isoformat() for m in minutes], "at": now}


def sparkline(values: list[int], width: int = 240, height: int = 40) -> str:
    """Inline SVG polyline of a per-minute series (the Bull-Board-style throughput chart)."""
    peak = max(values) if values and max(values) > 0 else 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - (v / peak) * (height - 2) - 1:.1f}" for i, v in enumerate(values))
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="messages per minute, last hour (peak {peak})" class="spark">'
            f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>')


def cards(conn: Any, principal: Any) -> list[dict[str, Any]]:
    from projections.campaigns.campaign_progress import campaign_messages, campaigns

    if not principal.can("campaigns:read"):
        return []
    t = campaigns
    active = conn.execute(sa.select(sa.func.count()).select_from(t).where(
        t.c.tenant_id == principal.tenant_id,
        t.c.status.in_(("received", "dispatching", "scheduled", "started")))).scalar() or 0
    m = campaign_messages
    dead = conn.execute(sa.select(sa.func.count()).select_from(m).where(
        m.c.tenant_id == principal.tenant_id, m.c.dead.is_(True))).scalar() or 0
    return [
        {"title": _("Active campaigns"), "value": int(active), "href": "/campaigns", "tone": "ok",
         "testid": "card-campaigns-active"},
        {"title": _("Campaign dead letters"), "value": int(dead), "href": "/campaigns/queues",
         "tone": "bad" if dead else "ok", "testid": "card-campaigns-dead"},
    ]

