"""Installs the notifications context: its service and the mailer port (SMTP or the sandbox)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from retaguarda.notifications.application import Notifications

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container
    from retaguarda.notifications.mailers import Mailer
    from retaguarda.settings import Settings


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        from retaguarda.notifications.mailers.smtp import SmtpMailer

        return SmtpMailer.from_url(settings.smtp_url)
    from retaguarda.notifications.mailers.fake import SandboxMailer

    return SandboxMailer(settings.var_dir / "outbox")


def email_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def find_stuck_emails(container: Container, older_than: datetime) -> list[tuple[str, tuple[str, int]]]:
    """Queued e-mails whose last request is older than `older_than` (from the outbox read model)."""
    from projections.ops.outbox import outbox_emails

    t = outbox_emails
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.id, t.c.request_version)
                            .where(t.c.status == "queued", t.c.updated_at < older_than)).all()
    return [("notifications.send_email", (r.id, r.request_version)) for r in rows]


def install(container: Container) -> None:
    container.notifications = Notifications(container.store, container.after_write, container.clock,
                                            container.registry.templates)
    container.mailer = make_mailer(container.settings)
    from retaguarda.notifications.attachments import AttachmentBlobs

    settings = container.settings
    container.notifications.attachments = AttachmentBlobs(
        (settings.attachments_dir or settings.var_dir / "attachments") / "mail")
