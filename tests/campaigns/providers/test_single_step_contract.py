"""The contract every single-step provider honours, run against each real client and its fake.

Given a fake on a real socket, when the real client sends, then: one delivery per message id,
replays answered without a second delivery, and each failure classified as the pipeline expects.
"""

from __future__ import annotations

from typing import Any

import pytest

from retaguarda.campaigns.providers import (
    CampaignProvider,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from retaguarda.integrations.errors import PermanentError, TransientError
from tests.fakes.campaigns.samples import message, messages

SINGLE_STEP = ["cda", "noah", "sms", "rcs"]
FAKE_OF = {"cda": "cda", "noah": "noah", "sms": "sms", "rcs": "rbm"}
CHANNEL = {"cda": "sms", "noah": "whatsapp", "sms": "sms", "rcs": "rcs"}
SEND_PATH = {"cda": "/v1/messages", "noah": "/api/messages", "sms": "/v1/sms", "rcs": "/agentMessages$"}


@pytest.fixture(params=SINGLE_STEP)
def pair(request: Any, build: Any, fakes: dict[str, Any]) -> tuple[CampaignProvider, Any, str]:
    name = request.param
    return build(name), fakes[FAKE_OF[name]], name


def test_the_port_is_satisfied(pair: Any) -> None:
    provider, _, name = pair
    assert isinstance(provider, CampaignProvider)
    assert provider.name == name and provider.two_step is False and provider.step_delay_seconds == 0


def test_a_message_is_delivered_once_with_our_id_as_key(pair: Any) -> None:
    provider, fake, name = pair
    result = provider.send(message(1))
    assert result.accepted and result.channel == CHANNEL[name] and result.provider_message_id
    assert list(fake.received) == ["msg-1"]
    assert fake.by_recipient["+5511987650001"] == 1


def test_sending_the_same_message_again_is_not_a_second_delivery(pair: Any) -> None:
    provider, fake, _ = pair
    first = provider.send(message(7))
    again = provider.send(message(7))
    assert again.accepted and again.provider_message_id == first.provider_message_id
    assert fake.attempts["msg-7"] == 2 and len(fake.received) == 1 and fake.duplicates() == {}


def test_many_messages_each_arrive_exactly_once(pair: Any) -> None:
    provider, fake, _ = pair
    batch = messages(40)
    for msg in batch + batch[:10]:  # a crashed worker re-sends the first ten
        provider.send(msg)
    assert sorted(fake.received) == sorted(m.message_id for m in batch)
    assert fake.duplicates() == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(pair: Any, status: int) -> None:
    provider, fake, _ = pair
    fake.fail_next(1, status, path=SEND_PATH[provider.name])
    with pytest.raises(TransientProviderError) as caught:
        provider.send(message(1))
    assert caught.value.kind == "transient" and caught.value.status == status
    assert isinstance(caught.value, TransientError)
    assert provider.send(message(1)).accepted  # the retry goes through
    assert len(fake.received) == 1


def test_429_is_transient_and_carries_retry_after(pair: Any) -> None:
    provider, fake, _ = pair
    fake.throttle_next(1, retry_after=7, path=SEND_PATH[provider.name])
    with pytest.raises(ProviderError) as caught:
        provider.send(message(1))
    assert caught.value.kind == "transient" and caught.value.status == 429 and caught.value.retry_after == 7
    assert fake.received == {}


def test_timeouts_and_dropped_connections_are_transient(pair: Any) -> None:
    provider, fake, _ = pair
    fake.timeout_next(1, delay=1.5, path=SEND_PATH[provider.name])
    with pytest.raises(TransientProviderError):
        provider.send(message(1))
    fake.drop_next(1, path=SEND_PATH[provider.name])
    with pytest.raises(TransientProviderError):
        provider.send(message(1))
    assert provider.send(message(1)).accepted
    assert len(fake.received) == 1


def test_an_answer_lost_after_acceptance_is_retried_without_a_second_delivery(pair: Any) -> None:
    provider, fake, _ = pair
    fake.timeout_after_accept_next(1, delay=1.5, path=SEND_PATH[provider.name])
    with pytest.raises(TransientProviderError):
        provider.send(message(3))
    assert list(fake.received) == ["msg-3"]  # the provider has it, we do not know yet
    assert provider.send(message(3)).accepted
    assert fake.attempts["msg-3"] == 2 and fake.by_recipient["+5511987650001"] == 1


def test_a_malformed_success_body_is_transient(pair: Any) -> None:
    provider, fake, _ = pair
    fake.malformed_next(1, path=SEND_PATH[provider.name])
    with pytest.raises(TransientProviderError, match="malformed"):
        provider.send(message(1))


def test_validation_errors_are_permanent(pair: Any) -> None:
    provider, fake, _ = pair
    fake.fail_next(1, 422 if provider.name != "rcs" else 400, path=SEND_PATH[provider.name])
    with pytest.raises(PermanentProviderError) as caught:
        provider.send(message(1))
    assert isinstance(caught.value, PermanentError) and caught.value.retry_after is None


def test_a_message_without_phone_fails_permanently_before_any_call(pair: Any) -> None:
    provider, fake, _ = pair
    with pytest.raises(PermanentProviderError):
        provider.send(message(1, phone=None, to_email="ana@example.com"))
    assert sum(fake.requests.values()) == 0


def test_wrong_credentials_are_permanent_and_never_echoed(build: Any, fakes: dict[str, Any]) -> None:
    secrets = {"cda": {"api_key": "WRONG-secret-1"}, "noah": {"client_secret": "WRONG-secret-1"},
               "sms": {"api_key": "WRONG-secret-1"}}
    for name, creds in secrets.items():
        provider = build(name, **creds)
        with pytest.raises(PermanentProviderError) as caught:
            provider.send(message(1))
        assert caught.value.status == 401
        assert "WRONG-secret-1" not in str(caught.value) and "WRONG-secret-1" not in repr(provider)
        assert provider.test_connection()["ok"] is False


def test_test_connection_succeeds_with_good_credentials(pair: Any) -> None:
    provider, _, _ = pair
    outcome = provider.test_connection()
    assert outcome["ok"] is True, outcome


def test_missing_credentials_are_named_permanent_errors(build: Any) -> None:
    provider = build("cda", api_key="")
    with pytest.raises(PermanentProviderError, match="api_key"):
        provider.send(message(1))


def test_single_step_providers_refuse_the_two_step_calls(pair: Any) -> None:
    provider, _, _ = pair
    with pytest.raises(PermanentProviderError):
        provider.prepare({"id": "c"}, [message(1)])
    with pytest.raises(PermanentProviderError):
        provider.start({"id": "c"}, {})
