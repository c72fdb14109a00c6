"""Inbox: one row per notice, for the bell (unread count) and the notification list."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.notifications.inbox import Notice

notification_inbox = sa.Table(
    "notification_inbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("recipient_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("link", sa.String(500), nullable=False, server_default=""),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("source_id", sa.String(36), nullable=False),
    sa.Column("read", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True)),
)
sa.Index(None, notification_inbox.c.tenant_id, notification_inbox.c.recipient_id, notification_inbox.c.read)


class Inbox(Projection):
    name = "notification_inbox"
    tables = (notification_inbox,)

    @handles(Notice.Posted)
    def posted(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(notification_inbox, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, recipient_id=e.recipient_id, kind=e.kind, title=e.title,
            body=e.body, link=e.link, params=dict(e.params), source_id=e.source_id,
            read=False, created_at=e.timestamp.astimezone(UTC), read_at=None))

    @handles(Notice.Read)
    def read(self, env: Envelope, w: Writer) -> None:
        w.update(notification_inbox, {"id": str(env.event.originator_id)},
                 {"read": True, "read_at": env.event.timestamp.astimezone(UTC)})


def inbox(conn: Connection, tenant_id: str, recipient_id: str, *, unread_only: bool = False, page: int = 1,
          per_page: int = 20) -> dict[str, Any]:
    t = notification_inbox
    where = [t.c.tenant_id == tenant_id, t.c.recipient_id == recipient_id]
    unread = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where, t.c.read.is_(False))).scalar() or 0
    if unread_only:
        where.append(t.c.read.is_(False))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.created_at.desc(), t.c.id)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    items = [{"id": r.id, "kind": r.kind, "title": r.title, "body": r.body, "link": r.link,
              "params": r.params or {}, "read": bool(r.read), "created_at": r.created_at.astimezone(UTC).isoformat(),
              "read_at": r.read_at.astimezone(UTC).isoformat() if r.read_at else None} for r in rows]
    return {**page_result(items, total, page, per_page), "unread": int(unread)}


def unread_count(conn: Connection, tenant_id: str, recipient_id: str) -> int:
    t = notification_inbox
    return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(
        t.c.tenant_id == tenant_id, t.c.recipient_id == recipient_id, t.c.read.is_(False))).scalar() or 0)
