"""Actors of the notifications context."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from retaguarda.integrations import current_attempt, job
from retaguarda.integrations.errors import PermanentError
from retaguarda.notifications.mailers import MailAttachment, MailMessage
from retaguarda.notifications.templates import render
from retaguarda.shared.documents import mask_documents_in_text

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ACTOR = "notifications.send_email"
# Duplicate messages for one e-mail (at-least-once) are serialised inside a worker process, so
# the second sees it sent; across processes, the stable Message-ID lets MTAs drop the copy.
_STRIPES = [threading.Lock() for _ in range(64)]


def record_give_up(container: Container, email_id: str, version: int, *, error: str, attempts: int) -> None:
    """Last retry failed (or a permanent error): the e-mail becomes `failed`, retryable in the UI."""
    container.notifications.record_failed(
        email_id, error=mask_documents_in_text(error), attempts=attempts)


@job(actor_name=ACTOR, queue_name="notifications", max_retries=5, min_backoff=1000,
     max_backoff=60000, throws=(PermanentError,), time_limit=60_000, on_give_up=record_give_up)
def send_email(container: Container, email_id: str, version: int) -> str:
    """Delivers one queued e-mail through the mailer port.

    Idempotent: does nothing unless the e-mail is still queued. The idempotency key is the e-mail
    id plus the version of the request being served, so redeliveries reuse the Message-ID.
    Transient mail errors are retried with exponential backoff (5 retries, 1 s → 60 s);
    permanent ones, and the last retry, record `Email.Failed`.
    """
    with _STRIPES[hash(email_id) % len(_STRIPES)]:
        return _deliver(container, email_id)


def _deliver(container: Container, email_id: str) -> str:
    service = container.notifications
    email = service.find_email(email_id)
    if email is None or not email.is_pending:
        return f"skipped ({'missing' if email is None else email.status})"
    subject, text = render(email.template, email.params, container)
    files = []
    for item in email.files:
        blobs = service.attachments
        if blobs is None:
            raise PermanentError("the e-mail has attachments but no attachment store is configured")
        try:
            data = blobs.get(item["sha256"])
        except (OSError, ValueError) as exc:
            raise PermanentError(f"attachment {item['filename']} unreadable: {exc}") from None
        files.append(MailAttachment(item["filename"], item["content_type"], data))
    message = MailMessage(sender=container.settings.mail_from, to=email.to, subject=subject, text=text,
                          email_id=str(email.id), tenant_id=email.tenant_id, attachments=tuple(files))
    provider_id = container.mailer.send(message, email.idempotency_key)
    service.record_sent(email_id, provider_message_id=provider_id, attempt=current_attempt(),
                        subject=subject)
    return f"sent {provider_id}"
