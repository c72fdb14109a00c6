"""E-mail end to end: Email.Requested → dispatcher → Dramatiq (StubBroker + worker) → actor →
SmtpMailer → a real SMTP server on 127.0.0.1, and the outcome back in the outbox read model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from projections.ops.outbox import get_email_row
from retaguarda.integrations.jobs import tune_actors
from retaguarda.integrations.reconciler import reconcile
from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import deliver, now_meta


def _queue(container: Any, to: str = "ana@example.com") -> str:
    saved = container.notifications.send_email(now_meta(), to, "plain",
                                               {"subject": "Bem-vinda", "text": "Olá, Ana"})
    return str(saved.aggregate.id)


def _row(container: Any, email_id: str) -> dict[str, Any]:
    with container.engine.connect() as conn:
        row = get_email_row(conn, "tenant-a", email_id)
    assert row is not None
    return row


def test_a_requested_email_is_delivered_over_smtp_and_shows_as_sent(container: Any,
                                                                     smtp: FakeSmtpServer) -> None:
    # Given an e-mail requested by a command
    email_id = _queue(container)
    # When the backbone runs
    deliver(container)
    # Then the local SMTP server received it, keyed by the e-mail id and request version
    [received] = smtp.messages
    assert received.rcpt_tos == ["ana@example.com"]
    assert received.message["Subject"] == "Bem-vinda"
    assert received.message["X-Idempotency-Key"] == f"{email_id}:1"
    # And the outbox shows it sent on the first attempt
    row = _row(container, email_id)
    assert (row["status"], row["attempts"], row["subject"]) == ("sent", 1, "Bem-vinda")
    assert row["provider_message_id"] == received.message_id
    # And the Sent event was recorded by the system actor, with the request's correlation id
    last = container.store.history(container.notifications.get_email("tenant-a", email_id).id)[-1]
    assert (last.actor, last.correlation_id) == ("system:notifications.send_email", "corr-test")


def test_transient_refusals_are_retried_with_backoff_until_delivered(container: Any,
                                                                     smtp: FakeSmtpServer) -> None:
    # Given the server answers 451 twice
    tune_actors(container.broker, min_backoff=40, max_backoff=200)
    smtp.reject_next(2, code=451)
    email_id = _queue(container)
    # When the backbone runs
    deliver(container)
    # Then the third attempt delivered it, after growing pauses
    assert smtp.attempts == 3 and len(smtp.messages) == 1
    t = smtp.attempt_times
    assert t[1] - t[0] >= 0.02 and t[2] - t[1] >= 0.04  # backoff with jitter: >= min/2, then >= 2*min/2
    row = _row(container, email_id)
    assert (row["status"], row["attempts"]) == ("sent", 3)


def test_a_permanent_refusal_fails_at_once_and_shows_the_error(container: Any,
                                                               smtp: FakeSmtpServer) -> None:
    smtp.reject_next(1, code=550, text="Mailbox unavailable")
    email_id = _queue(container)
    deliver(container)
    row = _row(container, email_id)
    assert smtp.attempts == 1
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["error"]


def test_exhausted_retries_record_a_failure(container: Any, smtp: FakeSmtpServer) -> None:
    # Given a server that keeps deferring and an actor allowed 2 retries
    tune_actors(container.broker, max_retries=2)
    smtp.reject_next(10, code=451)
    email_id = _queue(container)
    # When the backbone runs
    deliver(container)
    # Then after 3 attempts the e-mail is failed, with the last error
    assert smtp.attempts == 3 and smtp.messages == []
    row = _row(container, email_id)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "451" in row["error"]


def test_a_retried_email_is_sent_again_under_a_new_key(container: Any, smtp: FakeSmtpServer) -> None:
    # Given a failed e-mail
    smtp.reject_next(1, code=554)
    email_id = _queue(container)
    deliver(container)
    assert _row(container, email_id)["status"] == "failed"
    # When an admin retries it
    container.notifications.retry_email(now_meta(actor="admin-1"), email_id)
    deliver(container)
    # Then it is delivered, keyed by the retry's version
    [received] = smtp.messages
    assert received.message["X-Idempotency-Key"] == f"{email_id}:3"
    row = _row(container, email_id)
    assert (row["status"], row["version"]) == ("sent", 4)


def test_redelivered_triggers_do_not_send_twice(container: Any, smtp: FakeSmtpServer) -> None:
    # Given an e-mail already delivered
    email_id = _queue(container)
    deliver(container)
    assert len(smtp.messages) == 1
    # When the dispatcher starts over from the first event (e.g. its position was lost)
    dispatcher = container.dispatcher
    dispatcher.reset(0)
    sent_before = dispatcher.sent
    deliver(container)
    # Then it sent the trigger again, but the actor saw the e-mail sent and did nothing
    assert dispatcher.sent > sent_before
    assert len(smtp.messages) == 1
    assert _row(container, email_id)["version"] == 2


def test_two_copies_of_one_trigger_in_the_queue_send_one_email(container: Any,
                                                               smtp: FakeSmtpServer) -> None:
    # Given the trigger was dispatched twice before any worker ran
    email_id = _queue(container)
    dispatcher = container.dispatcher
    dispatcher.catch_up()
    dispatcher.reset(0)
    dispatcher.catch_up()
    assert container.broker.queues["notifications"].qsize() == 2
    # When the worker processes both
    deliver(container)
    # Then one e-mail left
    assert len(smtp.messages) == 1
    assert _row(container, email_id)["status"] == "sent"


def test_the_reconciler_resends_an_email_whose_message_was_lost(container: Any,
                                                                smtp: FakeSmtpServer) -> None:
    # Given the trigger was dispatched but the message was lost (e.g. Redis flushed)
    email_id = _queue(container)
    container.dispatcher.catch_up()
    container.broker.flush_all()
    container.runner.catch_up()
    # When the reconciler runs with the default threshold, a fresh e-mail is left alone
    assert reconcile(container)["emails"] == 0
    # And once the e-mail counts as stuck it is re-sent
    assert reconcile(container, stuck_after=timedelta(0))["emails"] == 1
    deliver(container)
    # Then it was delivered once
    assert len(smtp.messages) == 1
    assert _row(container, email_id)["status"] == "sent"
    assert reconcile(container, stuck_after=timedelta(0))["emails"] == 0


def test_without_smtp_url_the_sandbox_stores_the_mail_once(tmp_path: Any) -> None:
    from tests.conftest import build_container

    c = build_container(tmp_path / "sandbox-var")
    try:
        email_id = _queue(c)
        deliver(c)
        c.dispatcher.reset(0)
        deliver(c)
        mailer = c.mailer
        [stored] = mailer.stored(email_id)
        assert stored["to"] == "ana@example.com" and stored["text"] == "Olá, Ana"
        assert _row(c, email_id)["status"] == "sent"
        assert (tmp_path / "sandbox-var" / "outbox").is_dir()
    finally:
        c.close()
