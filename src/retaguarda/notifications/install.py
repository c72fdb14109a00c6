"""Installs the notifications context: service, mailer port, trigger and reconciler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from retaguarda.integrations import register_reconciler, register_trigger
from retaguarda.notifications.application import Notifications
from retaguarda.notifications.domain import Email


def make_mailer(settings: Any) -> Any:
    if settings.smtp_url:
        from retaguarda.notifications.mailers.smtp import SmtpMailer

        return SmtpMailer.from_url(settings.smtp_url)
    from retaguarda.notifications.mailers.fake import SandboxMailer

    return SandboxMailer(settings.var_dir / "outbox")


def _email_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def find_stuck_emails(container: Any, older_than: datetime) -> list[tuple[str, tuple[str, int]]]:
    """Queued e-mails whose last request is older than `older_than` (from the outbox read model)."""
    from projections.ops.outbox import outbox_emails

    t = outbox_emails
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.id, t.c.request_version)
                            .where(t.c.status == "queued", t.c.updated_at < older_than)).all()
    return [("notifications.send_email", (r.id, r.request_version)) for r in rows]


def install(container: Any) -> None:
    import retaguarda.notifications.actors  # noqa: F401  (records the send_email job)

    container.services["notifications"] = Notifications(container.store, container.after_write,
                                                        container.clock)
    container.ports.setdefault("mailer", make_mailer(container.settings))
    register_trigger(Email.Requested, "notifications.send_email", _email_args)
    register_trigger(Email.RetryRequested, "notifications.send_email", _email_args)
    register_reconciler("emails", find_stuck_emails)
