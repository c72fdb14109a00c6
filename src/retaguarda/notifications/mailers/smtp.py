"""Real SMTP client (stdlib smtplib): `smtp://user:pass@host:port?starttls=1` or `smtps://…`."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlparse

from retaguarda.notifications.mailers import (
    MailMessage,
    PermanentMailError,
    TransientMailError,
    message_id_for,
)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_url(cls, url: str) -> "SmtpConfig":
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError("RETAGUARDA_SMTP_URL must start with smtp:// or smtps://")
        query = parse_qs(parsed.query)
        implicit = parsed.scheme == "smtps"
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (465 if implicit else 25),
            username=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            implicit_tls=implicit,
            starttls=query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"),
            timeout=float(query.get("timeout", ["15"])[0]),
        )


class SmtpMailer:
    """Sends one message per connection (simple, and safe with worker threads).

    4xx replies and connection problems are transient; 5xx replies are permanent.
    """

    def __init__(self, config: SmtpConfig, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.ssl_context = ssl_context or ssl.create_default_context()

    @classmethod
    def from_url(cls, url: str) -> "SmtpMailer":
        return cls(SmtpConfig.from_url(url))

    def send(self, message: MailMessage, idempotency_key: str) -> str:
        msg = EmailMessage()
        msg["From"] = message.sender
        msg["To"] = message.to
        msg["Subject"] = message.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = message_id_for(idempotency_key, message.sender)
        msg["X-Idempotency-Key"] = idempotency_key
        msg.set_content(message.text)
        for item in message.attachments:
            maintype, _, subtype = (item.content_type or "application/octet-stream").partition("/")
            msg.add_attachment(item.data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=item.filename)
        try:
            with self._connect() as client:
                client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(400 <= c < 500 for c in codes):
                raise TransientMailError(f"recipient deferred: {exc.recipients}") from None
            raise PermanentMailError(f"recipient refused: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
                else str(exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                raise TransientMailError(f"{exc.smtp_code} {text}") from None
            raise PermanentMailError(f"{exc.smtp_code} {text}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientMailError(f"{type(exc).__name__}: {exc}") from None
        return msg["Message-ID"]

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        client: smtplib.SMTP
        if c.implicit_tls:
            client = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self.ssl_context)
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            client.ehlo()
            if c.starttls and not c.implicit_tls:
                client.starttls(context=self.ssl_context)
                client.ehlo()
            if c.username:
                client.login(c.username, c.password)
        except BaseException:
            client.close()
            raise
        return client
