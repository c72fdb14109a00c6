"""Email: one outgoing e-mail and its delivery outcome. Pure: no I/O, no clock.

Lifecycle: Requested (queued) → Sent, or → Failed after the last retry → RetryRequested (queued
again, from the UI) → Sent | Failed … The idempotency key given to the mailer is the e-mail id
plus the version of the event that asked for the current delivery (`request_version`), so every
redelivery of the same request carries the same key.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

STATUSES = ("queued", "sent", "failed")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEMPLATE_RE = re.compile(r"^[a-z0-9_.\-]{1,80}$")
_SCALARS = (str, int, bool, type(None))
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Email(Aggregate):
    """State: to, template, params, status, attempts, error, subject, provider_message_id,
    request_version, correlation_id. (No class-level annotations: see shared.aggregate.)"""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        to: str
        template: str
        params: dict[str, Any]
        status: str
        attempts: int
        error: str
        subject: str
        provider_message_id: str
        request_version: int
        correlation_id: str
        attachments: list[dict[str, Any]]

    class Requested(Aggregate.Created):
        to: str
        template: str
        params: dict[str, Any]

        def apply(self, email: "Email") -> None:
            super().apply(email)
            email.status = "queued"
            email.attempts = 0
            email.error = ""
            email.subject = ""
            email.provider_message_id = ""
            email.request_version = self.originator_version
            email.correlation_id = self.correlation_id

    class Sent(Aggregate.Event):
        provider_message_id: str
        attempt: int
        subject: str

        def apply(self, email: "Email") -> None:
            email.status = "sent"
            email.provider_message_id = self.provider_message_id
            email.attempts = self.attempt
            email.subject = self.subject
            email.error = ""

    class Failed(Aggregate.Event):
        error: str
        attempts: int

        def apply(self, email: "Email") -> None:
            email.status = "failed"
            email.error = self.error
            email.attempts = self.attempts

    class RetryRequested(Aggregate.Event):
        def apply(self, email: "Email") -> None:
            email.status = "queued"
            email.error = ""
            email.request_version = self.originator_version

    class AttachmentAdded(Aggregate.Event):
        """A file sent with the e-mail: only its name, type, size and SHA-256 are in the event;
        the bytes live in the content-addressed attachment store (`notifications.attachments`)."""
        filename: str
        content_type: str
        size: int
        sha256: str

        def apply(self, email: "Email") -> None:
            email.attachments = [*getattr(email, "attachments", []), {
                "filename": self.filename, "content_type": self.content_type, "size": self.size,
                "sha256": self.sha256}]

    @classmethod
    def compose(cls, meta: Meta, to: str, template: str, params: dict[str, Any] | None = None) -> "Email":
        """A new queued e-mail; save it with the aggregates whose change it announces."""
        address = str(to or "").strip()
        if not _EMAIL_RE.match(address) or len(address) > 254:
            raise ValidationError("to", "e-mail address is not valid")
        if not _TEMPLATE_RE.match(str(template or "")):
            raise ValidationError("template", "template name is not valid")
        clean = _clean_params(params or {})
        return cls._open(cls.Requested, meta, id=uuid.uuid4(), to=address, template=template,
                         params=clean)

    def attach(self, meta: Meta, *, filename: str, content_type: str, size: int, sha256: str) -> None:
        """Adds an attachment (recorded in the same save as the request, before any delivery)."""
        if self.status != "queued" or self.attempts or self.provider_message_id:
            raise ConflictError("attachments are added only before the e-mail is first sent")
        name = str(filename or "").strip().replace("/", "_").replace("\\", "_")
        if not name or len(name) > 200 or any(ord(ch) < 32 for ch in name):
            raise ValidationError("attachments.filename", "attachment name is not valid")
        if not _HEX64.match(str(sha256)):
            raise ValidationError("attachments.sha256", "attachment digest is not valid")
        if len(self.files) >= 10:
            raise ValidationError("attachments", "an e-mail has at most 10 attachments")
        self._record(self.AttachmentAdded, meta, filename=name, content_type=str(content_type)[:100],
                     size=max(0, int(size)), sha256=str(sha256))

    @property
    def files(self) -> list[dict[str, Any]]:
        """The attachments (name, content type, size, sha256), oldest first."""
        return list(getattr(self, "attachments", []))

    @property
    def idempotency_key(self) -> str:
        return f"{self.id}:{self.request_version}"

    @property
    def is_pending(self) -> bool:
        return self.status == "queued"

    def mark_sent(self, meta: Meta, *, provider_message_id: str, attempt: int, subject: str) -> bool:
        """Records delivery; False (nothing recorded) when already sent — redeliveries are harmless."""
        if self.status == "sent":
            return False
        self._record(self.Sent, meta, provider_message_id=str(provider_message_id)[:300],
                     attempt=max(1, int(attempt)), subject=str(subject)[:300])
        return True

    def mark_failed(self, meta: Meta, *, error: str, attempts: int) -> bool:
        """Records the give-up after the last retry; False when no delivery is pending."""
        if self.status != "queued":
            return False
        self._record(self.Failed, meta, error=str(error)[:1000], attempts=max(1, int(attempts)))
        return True

    def request_retry(self, meta: Meta) -> None:
        if self.status != "failed":
            raise ConflictError(f"only a failed e-mail can be retried (it is {self.status})")
        self._record(self.RetryRequested, meta)


def _clean_params(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ValidationError("params", "params must be an object")
    for key, value in params.items():
        if not isinstance(key, str):
            raise ValidationError("params", "param names must be strings")
        if not isinstance(value, _SCALARS):
            raise ValidationError(f"params.{key}", "param values must be text, numbers or booleans")
    return dict(params)
