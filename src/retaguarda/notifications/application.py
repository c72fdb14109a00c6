"""Notifications service: queue e-mails, record their outcome, retry failed ones.

Never talks to a mail server: `send_email` records `Email.Requested`; the dispatcher turns it
into a `notifications.send_email` message and the actor reports back through `record_sent` /
`record_failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from retaguarda.notifications.attachments import AttachmentBlobs
from retaguarda.notifications.domain import Email
from retaguarda.notifications.templates import Render
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta


class Notifications(Service):
    def __init__(self, store: Any, on_saved: Any, clock: Any, templates: Mapping[str, Render]) -> None:
        super().__init__(store, on_saved)
        self.clock = clock
        self.templates = templates
        """The container's e-mail templates (name → render): what `send_email` accepts."""
        self.attachments: AttachmentBlobs | None = None
        """Where attachments' bytes go (set by the installer); events carry only their hash."""

    def compose_email(self, meta: Meta, to: str, template: str, params: dict[str, Any] | None = None,
                      attachments: Sequence[tuple[str, str, bytes]] = ()) -> Email:
        """A queued e-mail with attachments `(filename, content_type, bytes)`, not saved: the caller
        saves it with the aggregate whose change it announces (one atomic save)."""
        if template not in self.templates:
            raise ValidationError("template", f"unknown e-mail template {template!r}")
        email = Email.compose(meta, to, template, params)
        for filename, content_type, data in attachments:
            if self.attachments is None:
                raise ValidationError("attachments", "no attachment store is configured")
            digest = self.attachments.put(data)
            email.attach(meta, filename=filename, content_type=content_type, size=len(data), sha256=digest)
        return email

    def send_email(self, meta: Meta, to: str, template: str,
                   params: dict[str, Any] | None = None) -> Saved:
        """Queues one e-mail (delivery happens later, at least once)."""
        if template not in self.templates:
            raise ValidationError("template", f"unknown e-mail template {template!r}")
        email = Email.compose(meta, to, template, params)
        return Saved(email, self.save(email))

    def retry_email(self, meta: Meta, email_id: str) -> Saved:
        """From the Outbox page: queues a failed e-mail again (ConflictError unless failed)."""
        def command() -> Saved:
            email = self.load(Email, email_id, meta.tenant_id)
            email.request_retry(meta)
            return Saved(email, self.save(email))

        return self.retrying(command)

    def get_email(self, tenant_id: str, email_id: str) -> Email:
        return self.load(Email, email_id, tenant_id)

    # The bell: a user's own notices and what they want to be told ------------------------
    def mark_read(self, meta: Meta, notice_id: str) -> Saved:
        """The actor's own notice only (another user's is "not found")."""
        from retaguarda.notifications.inbox import Notice
        from retaguarda.shared.errors import NotFoundError

        def command() -> Saved:
            notice = self.load(Notice, notice_id, meta.tenant_id)
            if notice.recipient_id != meta.actor:
                raise NotFoundError("Notice", notice_id)
            changed = notice.mark_read(meta)
            return Saved(notice, self.save(notice) if changed else 0)

        return self.retrying(command)

    def get_preferences(self, tenant_id: str, user_id: str) -> dict[str, list[str]]:
        from retaguarda.notifications.inbox import CHANNELS, NotificationPreferences, preferences_id

        prefs = self.find(NotificationPreferences, preferences_id(tenant_id, user_id))
        return dict(prefs.muted) if prefs is not None else {c: [] for c in CHANNELS}

    def set_preferences(self, meta: Meta, muted: Any) -> Saved:
        from retaguarda.notifications.inbox import NotificationPreferences, preferences_id

        def command() -> Saved:
            prefs = self.find(NotificationPreferences, preferences_id(meta.tenant_id, meta.actor))
            if prefs is None:
                prefs = NotificationPreferences.start(meta, meta.actor)
            prefs.change(meta, muted)
            return Saved(prefs, self.save(prefs))

        return self.retrying(command)

    # System side (actors): no tenant check, the id came from our own log ------------------
    def find_email(self, email_id: str) -> Email | None:
        try:
            return self.find(Email, UUID(str(email_id)))
        except ValueError:
            return None

    def record_sent(self, email_id: str, *, provider_message_id: str, attempt: int,
                    subject: str, job: str = "notifications.send_email") -> Saved:
        def command() -> Saved:
            email = self.load(Email, email_id, None)
            changed = email.mark_sent(self._system_meta(email, job), provider_message_id=provider_message_id,
                                      attempt=attempt, subject=subject)
            return Saved(email, self.save(email) if changed else 0)

        return self.retrying(command)

    def record_failed(self, email_id: str, *, error: str, attempts: int,
                      job: str = "notifications.send_email") -> Saved:
        def command() -> Saved:
            email = self.load(Email, email_id, None)
            changed = email.mark_failed(self._system_meta(email, job), error=error, attempts=attempts)
            return Saved(email, self.save(email) if changed else 0)

        return self.retrying(command)

    def _system_meta(self, email: Email, job: str) -> Meta:
        return Meta(tenant_id=email.tenant_id, actor=f"system:{job}",
                    correlation_id=email.correlation_id, at=self.clock.now())
