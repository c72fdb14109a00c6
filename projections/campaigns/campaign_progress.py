"""Campaign list and live progress: one row per campaign with counters per message status, one row
per message (failures with reasons, dead letters per provider), and sends per minute per provider
(the queue dashboard's throughput chart).

Counters change by deltas summed over the runner's batch, so 100,000 message events cost a few
UPDATEs per campaign per batch instead of one each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.campaigns.domain import Campaign, CampaignMessage
from retaguarda.shared.clock import as_utc

COUNTERS = ("messages", "queued", "sent", "delivered", "failed", "skipped", "dead", "retries")

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("recipients", sa.Integer, nullable=False),
    sa.Column("batches", sa.Integer, nullable=False),
    sa.Column("fanned_out", sa.Integer, nullable=False, server_default="0"),
    *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTERS],
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("send_at", sa.DateTime(timezone=True)),
    sa.Column("start_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, campaigns.c.tenant_id, campaigns.c.created_at)
sa.Index(None, campaigns.c.status)

campaign_messages = sa.Table(
    "campaign_messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("campaign_id", sa.String(36), nullable=False),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("channel", sa.String(10)),
    sa.Column("provider_message_id", sa.String(200)),
    sa.Column("dead", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("retry_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, campaign_messages.c.campaign_id, campaign_messages.c.status)
sa.Index(None, campaign_messages.c.tenant_id, campaign_messages.c.provider, campaign_messages.c.dead)
sa.Index(None, campaign_messages.c.provider_message_id)

campaign_throughput = sa.Table(
    "campaign_throughput",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("minute", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
)

def _utc(value: datetime | None) -> datetime | None:
    """Stored in UTC (SQLite keeps no offset: a São Paulo time would come back three hours off)."""
    return value.astimezone(timezone.utc) if value is not None and value.tzinfo else value


class _Where:
    __slots__ = ("campaign_id", "provider")

    def __init__(self, campaign_id: str, provider: str) -> None:
        self.campaign_id = campaign_id
        self.provider = provider


_STATUS_OF = {Campaign.DispatchStarted: "dispatching", Campaign.Scheduled: "scheduled",
              Campaign.Started: "started"}


class CampaignProgress(Projection):
    name = "campaign_progress"
    tables = (campaigns, campaign_messages, campaign_throughput)

    def __init__(self) -> None:
        self._known: dict[str, _Where] = {}

    def process(self, envelopes: Iterable[Envelope], writer: Writer) -> int:
        self._deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._touched: dict[str, datetime] = {}
        self._minutes: dict[tuple[str, str, datetime], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        count = super().process(envelopes, writer)
        for campaign_id, delta in self._deltas.items():
            values = {k: v for k, v in delta.items() if v}
            at = self._touched[campaign_id]
            writer.execute(lambda t, cid=campaign_id, values=values, at=at: sa.update(t).where(t.c.id == cid).values(
                updated_at=at, **{k: t.c[k] + v for k, v in values.items()}), campaigns)
        for (tenant_id, provider, minute), delta in self._minutes.items():
            key = {"tenant_id": tenant_id, "provider": provider, "minute": minute}
            row = writer.select_one(campaign_throughput, key)
            if row is None:
                writer.insert(campaign_throughput, {**key, "sent": 0, "failed": 0, "retries": 0, **delta})
            else:
                writer.update(campaign_throughput, key,
                              {k: getattr(row, k) + v for k, v in delta.items()})
        writer.flush()
        return count

    # Campaign events -----------------------------------------------------------------------
    @handles(Campaign.Received)
    def received(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(campaigns, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, external_id=e.external_id, name=e.name,
            provider=e.provider, kind=(e.options or {}).get("kind", "marketing"), status="received",
            reason="", recipients=e.recipient_count, batches=e.batch_count, fanned_out=0,
            **{k: 0 for k in COUNTERS}, text=(e.content or {}).get("text") or "", send_at=_utc(e.send_at),
            start_at=None, version=e.originator_version, created_at=e.timestamp, updated_at=e.timestamp,
            status_changed_at=e.timestamp,
        ))

    @handles(Campaign.DispatchStarted, Campaign.Scheduled, Campaign.Started)
    def status_changed(self, env: Envelope, w: Writer) -> None:
        values: dict[str, Any] = {"status": _STATUS_OF[type(env.event)]}
        if isinstance(env.event, Campaign.Scheduled):
            values["start_at"] = _utc(env.event.start_at)
        self._campaign(w, env, values, status=True)

    @handles(Campaign.BatchFannedOut)
    def fanned_out(self, env: Envelope, w: Writer) -> None:
        values: dict[str, Any] = {"fanned_out": env.event.batch + 1}
        if env.event.last:
            values["batches"] = env.event.batch + 1
        self._campaign(w, env, values)

    @handles(Campaign.BatchPrepared)
    def prepared(self, env: Envelope, w: Writer) -> None:
        self._campaign(w, env, {})

    @handles(Campaign.Finished)
    def finished(self, env: Envelope, w: Writer) -> None:
        self._campaign(w, env, {"status": env.event.outcome}, status=True)

    @handles(Campaign.Cancelled, Campaign.Failed)
    def stopped(self, env: Envelope, w: Writer) -> None:
        status = "cancelled" if isinstance(env.event, Campaign.Cancelled) else "failed"
        self._campaign(w, env, {"status": status, "reason": env.event.reason}, status=True)

    def _campaign(self, w: Writer, env: Envelope, values: dict[str, Any], status: bool = False) -> None:
        e = env.event
        values = {**values, "version": e.originator_version, "updated_at": e.timestamp}
        if status:
            values["status_changed_at"] = e.timestamp
        w.update(campaigns, {"id": str(e.originator_id)}, values)

    # Message events ------------------------------------------------------------------------
    def _count(self, e: Any, campaign_id: str, **delta: int) -> None:
        counters = self._deltas[campaign_id]
        for key, value in delta.items():
            counters[key] += value
        previous = self._touched.get(campaign_id)
        self._touched[campaign_id] = e.timestamp if previous is None or e.timestamp > previous else previous

    def _minute(self, e: Any, provider: str, key: str) -> None:
        minute = as_utc(e.timestamp).replace(second=0, microsecond=0)
        self._minutes[(e.tenant_id, provider, minute)][key] += 1

    @handles(CampaignMessage.Created)
    def message_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(campaign_messages, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, campaign_id=e.campaign_id, provider=e.provider,
            idx=e.index, recipient=str(e.to)[:254], name=(e.name or "")[:200], status=e.status,
            reason=e.reason or "", attempts=0, channel=None, provider_message_id=None, dead=False,
            retry_at=None, created_at=e.timestamp, updated_at=e.timestamp,
        ))
        self._count(e, e.campaign_id, messages=1, **{e.status: 1})
        self._remember(str(e.originator_id), _Where(e.campaign_id, e.provider))

    def _message(self, w: Writer, env: Envelope, values: dict[str, Any]) -> Any:
        e = env.event
        w.update(campaign_messages, {"id": str(e.originator_id)}, {**values, "updated_at": e.timestamp})

    def _row(self, w: Writer, env: Envelope) -> Any:
        """(campaign_id, provider) of the message: remembered from its Created event, else read."""
        key = str(env.event.originator_id)
        known = self._known.get(key)
        if known is None:
            row = w.select_one(campaign_messages, {"id": key})
            if row is None:
                return None
            known = _Where(row.campaign_id, row.provider)
            self._remember(key, known)
        return known

    def _remember(self, key: str, where: "_Where") -> None:
        if len(self._known) >= 300_000:
            self._known.clear()
        self._known[key] = where

    @handles(CampaignMessage.AttemptFailed)
    def attempt_failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = self._row(w, env)
        self._message(w, env, {"attempts": e.attempt, "reason": e.error, "retry_at": _utc(e.retry_at)})
        if row is not None:
            self._count(e, row.campaign_id, retries=1)
            self._minute(e, row.provider, "retries")

    @handles(CampaignMessage.Deferred)
    def deferred(self, env: Envelope, w: Writer) -> None:
        self._message(w, env, {"retry_at": _utc(env.event.until), "reason": env.event.why})

    @handles(CampaignMessage.Sent)
    def sent(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = self._row(w, env)
        self._message(w, env, {"status": "sent", "provider_message_id": e.provider_message_id,
                               "channel": e.channel, "attempts": e.attempt, "reason": e.fallback_reason,
                               "retry_at": None})
        if row is not None:
            self._count(e, row.campaign_id, sent=1, **{getattr(e, "was", "queued"): -1})
            self._minute(e, row.provider, "sent")

    @handles(CampaignMessage.Delivered)
    def delivered(self, env: Envelope, w: Writer) -> None:
        row = self._row(w, env)
        self._message(w, env, {"status": "delivered"})
        if row is not None:
            self._count(env.event, row.campaign_id, sent=-1, delivered=1)

    @handles(CampaignMessage.Failed)
    def failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = self._row(w, env)
        self._message(w, env, {"status": "failed", "reason": e.reason, "attempts": e.attempts,
                               "dead": e.dead, "retry_at": None})
        if row is not None:
            self._count(e, row.campaign_id, failed=1, dead=1 if e.dead else 0, **{e.was: -1})
            self._minute(e, row.provider, "failed")

    @handles(CampaignMessage.Skipped)
    def skipped(self, env: Envelope, w: Writer) -> None:
        row = self._row(w, env)
        self._message(w, env, {"status": "skipped", "reason": env.event.reason})
        if row is not None:
            self._count(env.event, row.campaign_id, queued=-1, skipped=1)

    @handles(CampaignMessage.Requeued)
    def requeued(self, env: Envelope, w: Writer) -> None:
        row = self._row(w, env)
        self._message(w, env, {"status": "queued", "reason": env.event.reason, "attempts": 0, "dead": False})
        if row is not None:
            self._count(env.event, row.campaign_id, failed=-1, dead=-1, queued=1)

    @handles(CampaignMessage.Discarded)
    def discarded(self, env: Envelope, w: Writer) -> None:
        row = self._row(w, env)
        self._message(w, env, {"dead": False, "reason": env.event.reason})
        if row is not None:
            self._count(env.event, row.campaign_id, dead=-1)

    @handles(CampaignMessage.FallbackRequested)
    def fallback(self, env: Envelope, w: Writer) -> None:
        row = self._row(w, env)
        self._message(w, env, {"status": "queued", "reason": env.event.reason})
        if row is not None:
            self._count(env.event, row.campaign_id, sent=-1, queued=1)


# Queries -------------------------------------------------------------------------------------

def _campaign_row(r: Any) -> dict[str, Any]:
    done = r.sent + r.delivered + r.failed + r.skipped
    total = max(r.recipients, r.messages)
    return {
        "id": r.id, "external_id": r.external_id, "name": r.name, "provider": r.provider, "kind": r.kind,
        "status": r.status, "reason": r.reason, "recipients": r.recipients, "messages": r.messages,
        "batches": r.batches, "fanned_out": r.fanned_out,
        "totals": {k: getattr(r, k) for k in ("queued", "sent", "delivered", "failed", "skipped")},
        "dead": r.dead, "retries": r.retries, "text": r.text,
        "progress": round(100 * done / total, 1) if total else 100.0,
        "send_at": as_utc(r.send_at), "start_at": as_utc(r.start_at), "version": r.version,
        "created_at": as_utc(r.created_at), "updated_at": as_utc(r.updated_at),
        "status_changed_at": as_utc(r.status_changed_at),
    }


def get_campaign_row(conn: Connection, tenant_id: str | None, campaign_id: str) -> dict[str, Any] | None:
    where = [campaigns.c.id == campaign_id]
    if tenant_id is not None:
        where.append(campaigns.c.tenant_id == tenant_id)
    row = conn.execute(sa.select(campaigns).where(*where)).first()
    return _campaign_row(row) if row else None


def list_campaigns(conn: Connection, tenant_id: str, *, status: str = "", search: str = "",
                   page: int = 1, per_page: int = 20) -> dict[str, Any]:
    t = campaigns
    where = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    if search:
        where.append(sa.or_(t.c.name.ilike(f"%{search}%"), t.c.external_id.ilike(f"%{search}%")))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.created_at.desc(), t.c.id)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_campaign_row(r) for r in rows], total, page, per_page)


def provider_breakdown(conn: Connection, campaign_id: str) -> dict[str, dict[str, int]]:
    """Per channel that carried the messages (the campaign's provider, or `sms` after an RCS
    fallback): counts per status. Messages not yet sent count under the campaign's provider."""
    m = campaign_messages
    rows = conn.execute(sa.select(sa.func.coalesce(m.c.channel, m.c.provider), m.c.provider, m.c.status,
                                  sa.func.count()).where(m.c.campaign_id == campaign_id)
                        .group_by(sa.func.coalesce(m.c.channel, m.c.provider), m.c.provider, m.c.status)).all()
    out: dict[str, dict[str, int]] = {}
    for channel, provider, status, count in rows:
        name = "sms" if channel == "sms" and provider == "rcs" else provider
        bucket = out.setdefault(name, {s: 0 for s in ("queued", "sent", "delivered", "failed", "skipped")})
        bucket[status] = bucket.get(status, 0) + int(count)
    return out


def _message_row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "campaign_id": r.campaign_id, "provider": r.provider, "index": r.idx,
            "recipient": r.recipient, "name": r.name, "status": r.status, "reason": r.reason,
            "attempts": r.attempts, "channel": r.channel, "provider_message_id": r.provider_message_id,
            "dead": bool(r.dead), "retry_at": as_utc(r.retry_at), "updated_at": as_utc(r.updated_at)}


def list_messages(conn: Connection, tenant_id: str, campaign_id: str, *, status: str = "",
                  page: int = 1, per_page: int = 50) -> dict[str, Any]:
    m = campaign_messages
    where = [m.c.tenant_id == tenant_id, m.c.campaign_id == campaign_id]
    if status:
        where.append(m.c.status == status)
    total = conn.execute(sa.select(sa.func.count()).select_from(m).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(m).where(*where).order_by(m.c.idx)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_message_row(r) for r in rows], total, page, per_page)


def failure_reasons(conn: Connection, tenant_id: str, campaign_id: str) -> list[dict[str, Any]]:
    m = campaign_messages
    rows = conn.execute(sa.select(m.c.status, m.c.reason, sa.func.count())
                        .where(m.c.tenant_id == tenant_id, m.c.campaign_id == campaign_id,
                               m.c.status.in_(("failed", "skipped")))
                        .group_by(m.c.status, m.c.reason).order_by(sa.func.count().desc())).all()
    return [{"status": s, "reason": r or "—", "count": int(n)} for s, r, n in rows]


def dead_letters(conn: Connection, tenant_id: str, *, provider: str = "", page: int = 1,
                 per_page: int = 50) -> dict[str, Any]:
    m = campaign_messages
    where = [m.c.tenant_id == tenant_id, m.c.dead.is_(True)]
    if provider:
        where.append(m.c.provider == provider)
    total = conn.execute(sa.select(sa.func.count()).select_from(m).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(m).where(*where).order_by(m.c.updated_at.desc(), m.c.id)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_message_row(r) for r in rows], total, page, per_page)


def dead_letter_counts(conn: Connection, tenant_id: str) -> dict[str, int]:
    m = campaign_messages
    rows = conn.execute(sa.select(m.c.provider, sa.func.count())
                        .where(m.c.tenant_id == tenant_id, m.c.dead.is_(True)).group_by(m.c.provider)).all()
    return {p: int(n) for p, n in rows}


def queued_counts(conn: Connection, tenant_id: str) -> dict[str, dict[str, int]]:
    """Per provider: messages waiting (`queued`) and how many of them are waiting for a retry."""
    m = campaign_messages
    rows = conn.execute(sa.select(m.c.provider, sa.func.count(), sa.func.count(m.c.retry_at))
                        .where(m.c.tenant_id == tenant_id, m.c.status == "queued")
                        .group_by(m.c.provider)).all()
    return {p: {"queued": int(n), "waiting_retry": int(r)} for p, n, r in rows}


def find_message_row(conn: Connection, tenant_id: str, *, message_id: str | None = None,
                     provider_message_id: str | None = None) -> dict[str, Any] | None:
    m = campaign_messages
    where = [m.c.tenant_id == tenant_id]
    if message_id:
        where.append(m.c.id == message_id)
    elif provider_message_id:
        where.append(m.c.provider_message_id == provider_message_id)
    else:
        return None
    row = conn.execute(sa.select(m).where(*where).limit(1)).first()
    return _message_row(row) if row else None


def queued_message_ids(conn: Connection, campaign_id: str) -> list[str]:
    """Every message of the campaign still queued (a cancelled campaign skips them)."""
    m = campaign_messages
    return [r.id for r in conn.execute(sa.select(m.c.id).where(m.c.campaign_id == campaign_id,
                                                               m.c.status == "queued"))]


def stalled_queued(conn: Connection, campaign_id: str, before: datetime, limit: int = 5000) -> list[str]:
    """Queued messages not touched since `before` whose retry time (if any) has passed."""
    m = campaign_messages
    rows = conn.execute(sa.select(m.c.id).where(
        m.c.campaign_id == campaign_id, m.c.status == "queued", m.c.updated_at < before,
        sa.or_(m.c.retry_at.is_(None), m.c.retry_at < before)).order_by(m.c.idx).limit(limit)).all()
    return [r.id for r in rows]


def throughput(conn: Connection, tenant_id: str, since: datetime) -> dict[str, list[dict[str, Any]]]:
    """Per provider, per minute since `since`: sent, failed, retries (missing minutes are zero)."""
    t = campaign_throughput
    rows = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.minute >= since)
                        .order_by(t.c.minute)).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.provider, []).append({"minute": as_utc(r.minute), "sent": r.sent,
                                               "failed": r.failed, "retries": r.retries})
    return out


def active_campaigns(conn: Connection, tenant_id: str | None = None) -> list[dict[str, Any]]:
    t = campaigns
    where = [t.c.status.in_(("received", "dispatching", "scheduled", "started"))]
    if tenant_id:
        where.append(t.c.tenant_id == tenant_id)
    return [_campaign_row(r) for r in conn.execute(sa.select(t).where(*where)).all()]


def recent_minutes(now: datetime, minutes: int = 60) -> list[datetime]:
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    return [start + timedelta(minutes=i) for i in range(minutes)]
