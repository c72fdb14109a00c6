"""A real SMTP server on 127.0.0.1 (aiosmtpd) with fault injection, for testing SmtpMailer.

    with FakeSmtpServer() as smtp:
        smtp.reject_next(2, code=451)      # two transient refusals, then accept
        ... smtp.url ...                   # smtp://127.0.0.1:<port>
        smtp.messages                      # accepted messages (email.message.Message)
"""

from __future__ import annotations

import email
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        payload = self.message.get_payload(decode=True)
        return payload.decode() if isinstance(payload, bytes) else str(payload)


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    attempts: int = 0
    attempt_times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.attempts += 1
            self.attempt_times.append(time.monotonic())
            if self.faults:
                return self.faults.pop(0)
            msg = email.message_from_bytes(envelope.original_content or envelope.content)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def self_signed_context(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate valid for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


class FakeSmtpServer:
    """Plain SMTP by default; `tls_dir=` enables (and requires) STARTTLS with a self-signed cert."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.client_ssl_context: ssl.SSLContext | None = None
        options: dict[str, Any] = {}
        if tls_dir is not None:
            server_ctx, self.client_ssl_context = self_signed_context(tls_dir)
            options = {"tls_context": server_ctx, "require_starttls": True}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def attempts(self) -> int:
        return self.handler.attempts

    @property
    def attempt_times(self) -> list[float]:
        return list(self.handler.attempt_times)

    def reject_next(self, n: int, code: int = 451, text: str = "Try again later") -> None:
        """The next `n` DATA commands get `code` (4xx transient, 5xx permanent)."""
        with self.handler.lock:
            self.handler.faults.extend([f"{code} {text}"] * n)

    def start(self) -> "FakeSmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> "FakeSmtpServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
