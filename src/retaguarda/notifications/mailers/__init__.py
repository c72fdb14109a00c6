"""The mailer port: one Protocol, its message DTO and its errors; vendors in sibling modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from retaguarda.integrations.errors import PermanentError, TransientError


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailMessage:
    sender: str
    to: str
    subject: str
    text: str
    email_id: str = ""
    tenant_id: str = ""
    attachments: tuple[MailAttachment, ...] = ()


class TransientMailError(TransientError):
    """The server may accept it later (4xx reply, connection refused, timeout): retried."""


class PermanentMailError(PermanentError):
    """The server refused for good (5xx reply, bad address, unknown template): never retried."""


class Mailer(Protocol):
    def send(self, message: MailMessage, idempotency_key: str) -> str:
        """Delivers `message`; returns the provider message id.

        The same `idempotency_key` always yields the same Message-ID, so a redelivery after a
        crash is recognisable downstream. Raises TransientMailError or PermanentMailError.
        """
        ...


def message_id_for(idempotency_key: str, sender: str) -> str:
    """A stable RFC 5322 Message-ID derived from the idempotency key."""
    import hashlib
    from email.utils import parseaddr

    domain = parseaddr(sender)[1].rpartition("@")[2] or "retaguarda.local"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


__all__ = ["MailAttachment", "MailMessage", "Mailer", "PermanentMailError", "TransientMailError",
           "message_id_for"]
