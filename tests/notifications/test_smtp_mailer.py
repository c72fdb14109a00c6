"""The real SMTP client against a local SMTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from retaguarda.notifications.mailers import MailMessage, PermanentMailError, TransientMailError
from retaguarda.notifications.mailers.smtp import SmtpConfig, SmtpMailer
from tests.fakes.smtp import FakeSmtpServer, free_port

MESSAGE = MailMessage(sender="Retaguarda <no-reply@retaguarda.local>", to="ana@example.com",
                      subject="Olá", text="Corpo com acentuação")


def test_a_message_is_delivered_with_a_message_id_derived_from_the_idempotency_key(
        smtp: FakeSmtpServer) -> None:
    mailer = SmtpMailer.from_url(smtp.url)
    # When the same key is sent twice
    first = mailer.send(MESSAGE, "email-1:1")
    second = mailer.send(MESSAGE, "email-1:1")
    # Then the server saw both, with the same Message-ID, and the body intact
    received = smtp.wait_for_messages(2)
    assert first == second == received[0].message_id == received[1].message_id
    assert first.endswith("@retaguarda.local>")
    assert received[0].rcpt_tos == ["ana@example.com"]
    assert "acentuação" in received[0].body
    assert mailer.send(MESSAGE, "email-1:3") != first


def test_a_4xx_reply_is_transient_and_a_5xx_reply_is_permanent(smtp: FakeSmtpServer) -> None:
    mailer = SmtpMailer.from_url(smtp.url)
    smtp.reject_next(1, code=451)
    with pytest.raises(TransientMailError, match="451"):
        mailer.send(MESSAGE, "k:1")
    smtp.reject_next(1, code=550, text="No such user")
    with pytest.raises(PermanentMailError, match="550"):
        mailer.send(MESSAGE, "k:1")


def test_an_unreachable_server_is_transient() -> None:
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(TransientMailError):
        mailer.send(MESSAGE, "k:1")


def test_the_url_carries_credentials_tls_mode_and_port() -> None:
    config = SmtpConfig.from_url("smtp://user%40x:p%3Ass@mail.example.com:587?starttls=1")
    assert (config.host, config.port, config.username, config.password, config.starttls) == (
        "mail.example.com", 587, "user@x", "p:ss", True)
    assert SmtpConfig.from_url("smtps://mail.example.com").port == 465
    assert SmtpConfig.from_url("smtps://mail.example.com").implicit_tls


def test_starttls_is_negotiated_when_the_url_asks_for_it(tmp_path: Path) -> None:
    # Given a server that requires STARTTLS with a certificate the client trusts
    with FakeSmtpServer(tls_dir=tmp_path) as server:
        url = f"{server.url}?starttls=1"
        mailer = SmtpMailer(SmtpConfig.from_url(url), ssl_context=server.client_ssl_context)
        # When the client sends
        message_id = mailer.send(MESSAGE, "email-tls:1")
        # Then the message arrived over the upgraded connection
        [received] = server.wait_for_messages(1)
        assert received.message_id == message_id
        # And a client that skips STARTTLS is refused for good
        with pytest.raises(PermanentMailError, match="530"):
            SmtpMailer.from_url(server.url).send(MESSAGE, "email-tls:2")
