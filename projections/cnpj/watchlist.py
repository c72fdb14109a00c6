"""Watch-list (targets with their latest situation) and checks (snapshot, outcome, changes).

Personal fields stay sealed (`personal`, opened with the check's data key at read time); an
`Erased` check loses its snapshot here (retention purge) and keeps only what it was.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.cnpj.domain import CnpjCheck, Target

targets = sa.Table(
    "cnpj_targets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("cnpj", sa.String(14), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("search", sa.String(500), nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("tags_text", sa.String(1000), nullable=False),
    sa.Column("schedule", sa.String(10), nullable=False),
    sa.Column("alerts", sa.JSON, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("situation", sa.String(20)),
    sa.Column("razao_social", sa.String(300), nullable=False, server_default=""),
    sa.Column("last_check_id", sa.String(36)),
    sa.Column("last_checked_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, targets.c.tenant_id, targets.c.archived, targets.c.search)
sa.Index(None, targets.c.tenant_id, targets.c.cnpj)

checks = sa.Table(
    "cnpj_checks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("target_id", sa.String(36), nullable=False),
    sa.Column("cnpj", sa.String(14), nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("provider", sa.String(20)),
    sa.Column("cache_hit", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("found", sa.Boolean),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("situation", sa.String(20)),
    sa.Column("snapshot", sa.JSON),
    sa.Column("personal", sa.Text),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("alerts", sa.JSON, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
)
sa.Index(None, checks.c.tenant_id, checks.c.target_id, checks.c.requested_at)
sa.Index(None, checks.c.status, checks.c.completed_at)


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", (text or "").lower()) if not unicodedata.combining(c))


def _search(cnpj: str, label: str, razao: str) -> str:
    return f"{cnpj.lower()} {fold(label)} {fold(razao)}"[:500]


class CnpjWatchlist(Projection):
    name = "cnpj_watchlist"
    tables = (targets, checks)

    @handles(Target.Added)
    def added(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(targets, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, cnpj=e.cnpj, label=e.label,
            search=_search(e.cnpj, e.label, ""), tags=list(e.tags), tags_text="," + ",".join(e.tags) + ",",
            schedule=e.schedule, alerts=list(e.alerts), archived=False, situation=None, razao_social="",
            last_check_id=None, last_checked_at=None, version=e.originator_version,
            created_at=e.timestamp, updated_at=e.timestamp,
        ))

    @handles(Target.Updated)
    def updated(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {}
        for key, value in e.changes.items():
            if key in ("tags", "alerts"):
                values[key] = list(value)
                if key == "tags":
                    values["tags_text"] = "," + ",".join(value) + ","
            elif key in ("label", "schedule"):
                values[key] = value
        if "label" in values:
            row = w.select_one(targets, {"id": str(e.originator_id)})
            values["search"] = _search(row.cnpj, values["label"], row.razao_social)
        self._touch(w, env, values)

    @handles(Target.Archived)
    def archived(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"archived": True})

    @handles(Target.Checked)
    def checked(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(targets, {"id": str(e.originator_id)})
        self._touch(w, env, {"situation": e.situation, "razao_social": e.razao_social or "",
                             "last_check_id": e.check_id,
                             "search": _search(row.cnpj, row.label, e.razao_social or "")})

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(targets, {"id": str(env.event.originator_id)},
                 {**values, "version": env.event.originator_version, "updated_at": env.event.timestamp})

    @handles(CnpjCheck.Requested, CnpjCheck.Queued)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(checks, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, target_id=e.target_id, cnpj=e.cnpj,
            mode=e.mode, status="queued" if isinstance(e, CnpjCheck.Queued) else "requested",
            provider=None, cache_hit=False, found=None, duration_ms=None, situation=None, snapshot=None,
            personal=None, errors=[], changes=[], alerts=[], erased=False, requested_at=e.timestamp,
            completed_at=None,
        ))

    @handles(CnpjCheck.Completed)
    def completed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        situation = ((e.snapshot or {}).get("situacao") or {}).get("description")
        w.update(checks, {"id": str(e.originator_id)}, dict(
            status="completed", provider=e.provider, cache_hit=e.cache_hit, found=e.found,
            duration_ms=e.duration_ms, situation=situation, snapshot=e.snapshot, personal=e.personal,
            errors=list(e.attempts), completed_at=e.timestamp))
        # Every completed check stamps its target (Target.Checked is recorded only on changes).
        row = w.select_one(checks, {"id": str(e.originator_id)})
        if row is not None:
            w.update(targets, {"id": row.target_id}, {"last_checked_at": e.timestamp})

    @handles(CnpjCheck.Failed)
    def failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(checks, {"id": str(e.originator_id)}, dict(
            status="failed", errors=list(e.errors), duration_ms=e.duration_ms, completed_at=e.timestamp))

    @handles(CnpjCheck.ChangesDetected)
    def changes(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(checks, {"id": str(e.originator_id)}, {"changes": list(e.changes), "alerts": list(e.alerts)})

    @handles(CnpjCheck.WebhookFailed, CnpjCheck.WebhookRetryRequested)
    def webhook(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(checks, {"id": str(e.originator_id)})
        if row is None:
            return
        entry = ({"provider": "webhook", "outcome": "failed", "message": e.error}
                 if isinstance(e, CnpjCheck.WebhookFailed)
                 else {"provider": "webhook", "outcome": "retrying", "message": "alert webhook retry requested"})
        w.update(checks, {"id": str(e.originator_id)}, {"errors": [*list(row.errors or []), entry]})

    @handles(CnpjCheck.Erased)
    def erased(self, env: Envelope, w: Writer) -> None:
        w.update(checks, {"id": str(env.event.originator_id)},
                 {"erased": True, "snapshot": None, "personal": None})


# Queries --------------------------------------------------------------------------------------

def _target_row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "cnpj": r.cnpj, "label": r.label, "tags": list(r.tags or []),
            "schedule": r.schedule, "alerts": list(r.alerts or []), "archived": bool(r.archived),
            "situation": r.situation, "razao_social": r.razao_social, "last_check_id": r.last_check_id,
            "last_checked_at": r.last_checked_at, "version": r.version, "created_at": r.created_at,
            "updated_at": r.updated_at}


def list_targets(conn: Connection, tenant_id: str, *, search: str = "", situation: str = "", tag: str = "",
                 archived: bool = False, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    t = targets
    where = [t.c.tenant_id == tenant_id, t.c.archived == archived]
    if search.strip():
        term = search.strip()
        compact = "".join(ch for ch in term if ch.isalnum()).lower()
        conds = [t.c.search.like(f"%{fold(term)}%")]
        if len(compact) >= 3:
            conds.append(t.c.search.like(f"%{compact}%"))
        where.append(sa.or_(*conds))
    if situation == "unchecked":
        where.append(t.c.situation.is_(None))
    elif situation:
        where.append(t.c.situation == situation.upper())
    if tag:
        where.append(t.c.tags_text.like(f"%,{tag.strip().lower()},%"))
    return paginate(conn, t, where, [t.c.label, t.c.cnpj, t.c.id], page, per_page, _target_row)


def get_target_row(conn: Connection, tenant_id: str, target_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(targets).where(targets.c.tenant_id == tenant_id, targets.c.id == target_id)).first()
    return _target_row(r) if r else None


def count_by_situation(conn: Connection, tenant_id: str) -> dict[str, int]:
    rows = conn.execute(sa.select(targets.c.situation, sa.func.count())
                        .where(targets.c.tenant_id == tenant_id, targets.c.archived.is_(False))
                        .group_by(targets.c.situation)).all()
    return {(s or "UNCHECKED"): n for s, n in rows}


def _check_row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "target_id": r.target_id, "cnpj": r.cnpj, "mode": r.mode, "status": r.status,
            "provider": r.provider, "cache_hit": bool(r.cache_hit), "found": r.found,
            "duration_ms": r.duration_ms, "situation": r.situation, "snapshot": r.snapshot,
            "personal": r.personal, "errors": list(r.errors or []), "changes": list(r.changes or []),
            "alerts": list(r.alerts or []), "erased": bool(r.erased), "requested_at": r.requested_at,
            "completed_at": r.completed_at}


def get_check_row(conn: Connection, tenant_id: str, check_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(checks).where(checks.c.tenant_id == tenant_id, checks.c.id == check_id)).first()
    return _check_row(r) if r else None


def checks_of_target(conn: Connection, tenant_id: str, target_id: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(checks).where(checks.c.tenant_id == tenant_id, checks.c.target_id == target_id)
                        .order_by(checks.c.requested_at.desc(), checks.c.id).limit(limit)).all()
    return [_check_row(r) for r in rows]


def pending_count(conn: Connection, tenant_id: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(checks).where(
        checks.c.tenant_id == tenant_id, checks.c.status.in_(("queued", "requested")))).scalar() or 0)


def due_targets(conn: Connection, now: datetime, days: dict[str, int], limit: int = 500) -> list[dict[str, Any]]:
    """Targets whose schedule says a check is due (never checked, or last check older than its period)."""
    from datetime import timedelta

    out: list[dict[str, Any]] = []
    for schedule, n in days.items():
        cutoff = now - timedelta(days=n)
        rows = conn.execute(sa.select(targets.c.id, targets.c.tenant_id).where(
            targets.c.schedule == schedule, targets.c.archived.is_(False),
            sa.or_(targets.c.last_checked_at.is_(None), targets.c.last_checked_at < cutoff),
        ).limit(limit)).all()
        out.extend({"id": r.id, "tenant_id": r.tenant_id} for r in rows)
    return out


def tenants_with_checks(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(sa.select(checks.c.tenant_id).where(checks.c.erased.is_(False))
                                       .distinct()).all()]


def checks_older_than(conn: Connection, tenant_id: str, cutoff: datetime, limit: int = 1000) -> list[str]:
    return [r[0] for r in conn.execute(sa.select(checks.c.id).where(
        checks.c.tenant_id == tenant_id, checks.c.erased.is_(False), checks.c.status == "completed",
        checks.c.completed_at < cutoff).limit(limit)).all()]
