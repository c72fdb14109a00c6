"""Email aggregate rules."""

from __future__ import annotations

import pytest

from retaguarda.notifications import Email
from retaguarda.shared.errors import ConflictError, ValidationError
from tests.integrations.helpers import now_meta


def test_a_composed_email_is_queued_with_a_key_from_its_id_and_request_version() -> None:
    # Given / When
    email = Email.compose(now_meta(), "ana@example.com", "plain", {"subject": "Oi", "text": "Olá"})
    # Then
    assert email.status == "queued"
    assert email.tenant_id == "tenant-a"
    assert email.idempotency_key == f"{email.id}:1"


@pytest.mark.parametrize("to, template, params, field", [
    ("not-an-address", "plain", {}, "to"),
    ("ana@example.com", "Bad Name!", {}, "template"),
    ("ana@example.com", "plain", {"x": [1, 2]}, "params.x"),
])
def test_bad_input_names_the_field(to: str, template: str, params: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Email.compose(now_meta(), to, template, params)
    assert field in err.value.errors


def test_marking_sent_twice_records_one_event() -> None:
    # Given a queued e-mail
    email = Email.compose(now_meta(), "ana@example.com", "plain", {})
    # When the actor reports delivery twice (at-least-once)
    first = email.mark_sent(now_meta(), provider_message_id="<a@b>", attempt=1, subject="Oi")
    second = email.mark_sent(now_meta(), provider_message_id="<a@b>", attempt=2, subject="Oi")
    # Then only the first is recorded
    assert (first, second) == (True, False)
    assert email.version == 2 and email.status == "sent"


def test_only_a_failed_email_can_be_retried_and_the_retry_gets_a_new_key() -> None:
    email = Email.compose(now_meta(), "ana@example.com", "plain", {})
    with pytest.raises(ConflictError):
        email.request_retry(now_meta())
    # Given it failed after its last attempt
    assert email.mark_failed(now_meta(), error="451 later", attempts=6)
    # When an admin retries it
    email.request_retry(now_meta())
    # Then it is queued again under a new idempotency key
    assert email.status == "queued" and email.error == ""
    assert email.idempotency_key == f"{email.id}:3"


def test_a_failure_is_not_recorded_for_an_email_already_sent() -> None:
    email = Email.compose(now_meta(), "ana@example.com", "plain", {})
    email.mark_sent(now_meta(), provider_message_id="<a@b>", attempt=1, subject="Oi")
    assert email.mark_failed(now_meta(), error="late", attempts=2) is False
    assert email.status == "sent"
