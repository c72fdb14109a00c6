"""Outbox: every e-mail of a tenant with its delivery status (admin Outbox page, reconciler)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.notifications.domain import Email
from retaguarda.shared.clock import as_utc

outbox_emails = sa.Table(
    "outbox_emails",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("to", sa.String(254), nullable=False),
    sa.Column("template", sa.String(80), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.String(1000), nullable=False, server_default=""),
    sa.Column("provider_message_id", sa.String(300), nullable=False, server_default=""),
    sa.Column("request_version", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, outbox_emails.c.tenant_id, outbox_emails.c.requested_at)
sa.Index(None, outbox_emails.c.status, outbox_emails.c.updated_at)

outbox_attachments = sa.Table(
    "outbox_attachments",
    metadata,
    sa.Column("email_id", sa.String(36), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)


def _utc(value: datetime) -> datetime:
    # Stored in UTC so SQLite (which drops the offset) compares times correctly.
    return value.astimezone(timezone.utc)


class Outbox(Projection):
    name = "outbox"
    tables = (outbox_emails, outbox_attachments)

    @handles(Email.Requested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        at = _utc(e.timestamp)
        w.insert(outbox_emails, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, to=e.to, template=e.template, subject="",
            status="queued", attempts=0, error="", provider_message_id="",
            request_version=e.originator_version, version=e.originator_version,
            requested_at=at, sent_at=None, updated_at=at,
        ))

    @handles(Email.Sent)
    def sent(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, e, status="sent", subject=e.subject, attempts=e.attempt, error="",
                    provider_message_id=e.provider_message_id, sent_at=_utc(e.timestamp))

    @handles(Email.Failed)
    def failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, e, status="failed", error=e.error, attempts=e.attempts)

    @handles(Email.RetryRequested)
    def retry_requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, e, status="queued", error="", request_version=e.originator_version)

    @handles(Email.AttachmentAdded)
    def attachment_added(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(outbox_attachments, dict(
            email_id=str(e.originator_id), line=e.originator_version, tenant_id=e.tenant_id,
            filename=e.filename, content_type=e.content_type, size=e.size, sha256=e.sha256))

    def _touch(self, w: Writer, e: Any, **values: Any) -> None:
        w.update(outbox_emails, {"id": str(e.originator_id)},
                 {**values, "version": e.originator_version, "updated_at": _utc(e.timestamp)})


# Queries -------------------------------------------------------------------------------



def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "to": r.to, "template": r.template, "subject": r.subject, "status": r.status,
        "attempts": r.attempts, "error": r.error, "provider_message_id": r.provider_message_id,
        "version": r.version, "requested_at": as_utc(r.requested_at), "sent_at": as_utc(r.sent_at),
        "updated_at": as_utc(r.updated_at),
    }


def list_emails(conn: Connection, tenant_id: str, *, status: str = "", page: int = 1,
                per_page: int = 50) -> dict[str, Any]:
    t = outbox_emails
    where = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    return paginate(conn, t, where, [t.c.requested_at.desc(), t.c.id], page, per_page, _row)


def get_email_row(conn: Connection, tenant_id: str, email_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(outbox_emails).where(outbox_emails.c.tenant_id == tenant_id,
                                                    outbox_emails.c.id == email_id)).first()
    if r is None:
        return None
    a = outbox_attachments
    files = conn.execute(sa.select(a.c.filename, a.c.content_type, a.c.size, a.c.sha256)
                         .where(a.c.tenant_id == tenant_id, a.c.email_id == email_id)
                         .order_by(a.c.line)).all()
    return {**_row(r), "attachments": [{"filename": f.filename, "content_type": f.content_type,
                                        "size": f.size, "sha256": f.sha256} for f in files]}


def count_by_status(conn: Connection, tenant_id: str) -> dict[str, int]:
    rows = conn.execute(sa.select(outbox_emails.c.status, sa.func.count())
                        .where(outbox_emails.c.tenant_id == tenant_id)
                        .group_by(outbox_emails.c.status)).all()
    counts = {"queued": 0, "sent": 0, "failed": 0}
    counts.update({s: n for s, n in rows})
    return counts
