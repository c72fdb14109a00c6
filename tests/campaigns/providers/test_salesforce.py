"""Salesforce Marketing Cloud client: token lifecycle, contacts then send, 429s, idempotency."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retaguarda.campaigns.providers import PermanentProviderError, TransientProviderError
from tests.fakes.campaigns.samples import message, messages

CAMPAIGN = {"id": "camp-1", "external_id": "wp-42", "name": "Black Friday"}


def test_salesforce_is_two_step_with_a_twenty_minute_gap(build: Any) -> None:
    provider = build("salesforce")
    assert provider.two_step is True and provider.step_delay_seconds == 1200


def test_contacts_first_then_the_send_each_exactly_once(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    batch = messages(1200)
    refs = provider.prepare(CAMPAIGN, batch)
    rows = salesforce.data_extensions["Campaign_Contacts"]
    assert refs == {"data_extension_key": "Campaign_Contacts", "rows": 1200, "rejected": {}}
    assert len(rows) == 1200 and salesforce.rowset_calls == 3  # 500 rows per call
    assert rows["msg-5"]["Phone"] == "5511900000005" and rows["msg-5"]["first_name"] == "Ana"
    assert salesforce.received == {}  # step 1 sends nothing
    outcome = provider.start(CAMPAIGN, refs, batch)
    assert sorted(outcome["accepted"]) == sorted(m.message_id for m in batch) and outcome["rejected"] == {}
    assert salesforce.send_calls == 5  # 250 recipients per call
    assert salesforce.received["msg-5"]["definitionKey"] == "retaguarda-sms"
    assert salesforce.received["msg-5"]["to"] == "+5511900000005"


def test_prepare_and_start_again_are_harmless(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    batch = messages(10)
    provider.prepare(CAMPAIGN, batch)
    refs = provider.prepare(CAMPAIGN, batch)
    assert len(salesforce.data_extensions["Campaign_Contacts"]) == 10
    provider.start(CAMPAIGN, refs, batch[:6])
    again = provider.start(CAMPAIGN, refs, batch)  # re-run after a crash: MC rejects the 6 keys it has
    assert sorted(again["accepted"]) == sorted(m.message_id for m in batch)
    assert len(salesforce.received) == 10 and salesforce.duplicates() == {}


def test_token_is_cached_until_just_before_expires_in(build: Any, salesforce: Any, clock: Any) -> None:
    provider = build("salesforce")
    provider.send(message(1))
    clock.advance(seconds=1079 - 61)
    provider.send(message(2))
    assert salesforce.token_requests == 1
    clock.advance(seconds=2)
    provider.send(message(3))
    assert salesforce.token_requests == 2


def test_a_401_refreshes_the_token_once(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    provider.send(message(1))
    salesforce.expire_tokens()
    assert provider.send(message(2)).accepted
    assert salesforce.token_requests == 2


def test_a_second_401_in_a_row_is_permanent(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    provider.send(message(1))
    salesforce.fail_next(2, 401, path="^/messaging/")
    with pytest.raises(PermanentProviderError) as caught:
        provider.send(message(2))
    assert caught.value.status == 401 and salesforce.token_requests == 2


def test_bad_client_credentials_are_permanent(build: Any) -> None:
    provider = build("salesforce", client_secret="WRONG-sf-secret")
    with pytest.raises(PermanentProviderError) as caught:
        provider.prepare(CAMPAIGN, messages(1))
    assert caught.value.status == 401 and "WRONG-sf-secret" not in str(caught.value)
    assert provider.test_connection()["ok"] is False


def test_429_retry_after_is_honoured(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    salesforce.throttle_next(1, retry_after=5, path="/rowset$")
    with pytest.raises(TransientProviderError) as caught:
        provider.prepare(CAMPAIGN, messages(3))
    assert (caught.value.status, caught.value.retry_after) == (429, 5)
    salesforce.fail_next(1, 429, path="^/messaging/", body={"message": "Rate limit exceeded", "errorcode": 50100,
                                                             "retryAfter": 9})
    with pytest.raises(TransientProviderError) as body_hint:  # no header: the body's retryAfter
        provider.start(CAMPAIGN, {}, messages(3))
    assert body_hint.value.retry_after == 9
    assert provider.start(CAMPAIGN, {}, messages(3))["accepted"]


def test_server_errors_and_timeouts_are_transient(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    salesforce.fail_next(1, 500, path="^/v2/token$")
    with pytest.raises(TransientProviderError):
        provider.send(message(1))
    salesforce.timeout_next(1, delay=1.5, path="^/messaging/")
    with pytest.raises(TransientProviderError):
        provider.send(message(1))
    assert provider.send(message(1)).accepted and len(salesforce.received) == 1


def test_recipients_mc_rejects_are_reported_per_message(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    batch = [message(1), message(2, phone="+55abc"), message(3, phone=None, to_email="ana@example.com"),
             message(4, phone=None)]
    outcome = provider.start(CAMPAIGN, {}, batch)
    assert sorted(outcome["accepted"]) == ["msg-1", "msg-3"]
    assert set(outcome["rejected"]) == {"msg-2", "msg-4"}
    assert salesforce.received["msg-3"]["channel"] == "email"


def test_an_unknown_send_definition_is_permanent(build: Any) -> None:
    with pytest.raises(PermanentProviderError, match="ObjectNotFound"):
        build("salesforce", sms_definition_key="nope").start(CAMPAIGN, {}, messages(2))


def test_journey_mode_fires_one_entry_event_per_contact(build: Any, salesforce: Any) -> None:
    provider = build("salesforce", send_mode="journey")
    outcome = provider.start(CAMPAIGN, {}, messages(3))
    assert len(outcome["accepted"]) == 3 and len(salesforce.events) == 3
    event = salesforce.events[0]
    assert event["EventDefinitionKey"] == "APIEvent-retaguarda" and event["Data"]["MessageKey"] == "msg-0"
    bad = build("salesforce", send_mode="journey", event_definition_key="missing").start(CAMPAIGN, {}, messages(1))
    assert list(bad["rejected"]) == ["msg-0"]


def test_start_needs_the_messages(build: Any) -> None:
    with pytest.raises(PermanentProviderError):
        build("salesforce").start(CAMPAIGN, {})


def test_the_auth_host_comes_from_the_subdomain_when_no_url_is_set(clock: Any) -> None:
    from retaguarda.campaigns.providers import make_provider
    from retaguarda.settings import Settings

    provider = make_provider("salesforce", settings=Settings(salesforce_url=""), clock=clock,
                             credentials={"subdomain": "mc123abc", "client_id": "x", "client_secret": "y"})
    assert provider.base_url == "https://mc123abc.auth.marketingcloudapis.com"  # type: ignore[attr-defined]


def test_notifications_become_receipts(build: Any, salesforce: Any) -> None:
    provider = build("salesforce")
    sent = json.dumps(salesforce.notification("msg-1")).encode()
    failed = json.dumps(salesforce.notification("msg-2", "TransactionalSendEvents.SmsNotSent", "Blocked")).encode()
    assert provider.parse_receipt(sent, {}) == [{"message_id": "msg-1", "status": "delivered", "reason": None}]
    assert provider.parse_receipt(failed, {}) == [{"message_id": "msg-2", "status": "failed", "reason": "Blocked"}]


def test_tokens_also_lapse_on_the_fake_by_themselves(settings: Any, salesforce: Any) -> None:
    import time

    from retaguarda.campaigns.providers import MemoryTokenCache, make_provider
    from retaguarda.shared.clock import SystemClock

    # Given a fake whose tokens die after 1 s although `expires_in` says 1079 s
    salesforce.token_valid_for = 1
    provider = make_provider("salesforce", settings=settings, credentials={
        "client_id": "sf-id", "client_secret": "sf-secret", "sms_definition_key": "retaguarda-sms"},
        clock=SystemClock(), token_cache=MemoryTokenCache())
    try:
        provider.send(message(1))
        time.sleep(1.1)
        # When the token lapses on the server side, the 401 triggers one refresh and the send goes through
        assert provider.send(message(2)).accepted
        assert salesforce.token_requests == 2 and len(salesforce.received) == 2
    finally:
        provider.close()  # type: ignore[attr-defined]
