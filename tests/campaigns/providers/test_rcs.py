"""Google RBM client against the fake RBM (and the fake SMS provider for fallback)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from retaguarda.campaigns.providers import NotCapableError, PermanentProviderError, TransientProviderError
from retaguarda.campaigns.providers.rcs import content_message
from retaguarda.settings import Settings
from tests.fakes.campaigns.samples import message

PHONE = "+5511987650001"


def test_the_capability_check_comes_first_and_the_message_carries_our_id(build: Any, rbm: Any) -> None:
    result = build("rcs").send(message(1))
    assert (result.channel, result.provider_message_id, result.fallback_reason) == ("rcs", "msg-1", None)
    assert rbm.capability_checks == 1
    assert rbm.received["msg-1"]["contentMessage"] == {"text": "Olá Ana, promoção!"}
    assert rbm.received["msg-1"]["ttl"] == "86400s"


def test_a_phone_without_rcs_falls_back_to_sms(build: Any, rbm: Any, sms: Any) -> None:
    # Given a phone RBM cannot reach (capability check answers 404 NOT_FOUND)
    rbm.mark_not_capable(PHONE)
    # When the RCS provider sends
    result = build("rcs").send(message(1, media_url="https://cdn.example/promo.png"))
    # Then the SMS provider delivered it, with the media as a link, and the result says so
    assert (result.channel, result.fallback_reason, result.accepted) == ("sms", "not_rcs_capable", True)
    assert rbm.received == {} and list(sms.received) == ["msg-1"]
    assert sms.received["msg-1"]["text"] == "Olá Ana, promoção! https://cdn.example/promo.png"
    assert result.provider_message_id and result.provider_message_id.startswith("sms_")


def test_a_404_on_send_also_falls_back(build: Any, rbm: Any, sms: Any) -> None:
    # Given the capability check passed but the send itself answers 404 (RCS switched off meanwhile)
    rbm.fail_next(1, 404, path="agentMessages$", body={"error": {"code": 404, "status": "NOT_FOUND"}})
    result = build("rcs").send(message(2))
    assert (result.channel, result.fallback_reason) == ("sms", "not_rcs_capable")
    assert rbm.received == {} and list(sms.received) == ["msg-2"]


def test_a_fallback_re_run_after_a_crash_sends_one_sms(build: Any, rbm: Any, sms: Any) -> None:
    rbm.mark_not_capable(PHONE)
    provider = build("rcs")
    first, again = provider.send(message(2)), provider.send(message(2))
    assert first.provider_message_id == again.provider_message_id
    assert sms.attempts["msg-2"] == 2 and list(sms.received) == ["msg-2"] and sms.duplicates() == {}


def test_without_a_fallback_a_non_rcs_phone_is_not_capable(build: Any, rbm: Any, sms: Any) -> None:
    rbm.mark_not_capable(PHONE)
    with pytest.raises(NotCapableError) as caught:
        build("rcs", fallback=False).send(message(1))
    assert caught.value.kind == "not_capable" and sms.received == {}


def test_an_expired_message_goes_straight_to_sms(build: Any, rbm: Any, sms: Any, clock: Any) -> None:
    expired = (clock.now() - timedelta(minutes=1)).isoformat()
    result = build("rcs").send(message(1, attributes={"expire_at": expired}))
    assert (result.channel, result.fallback_reason) == ("sms", "ttl_expired")
    assert rbm.capability_checks == 0 and rbm.received == {} and list(sms.received) == ["msg-1"]


def test_ttl_expiry_event_asks_for_fallback_which_sends_sms(build: Any, rbm: Any, sms: Any) -> None:
    provider = build("rcs")
    provider.send(message(1, attributes={"rcs_ttl_seconds": 600}))
    assert rbm.received["msg-1"]["ttl"] == "600s"
    # RBM revokes the undelivered message at expiry and tells us
    receipts = provider.parse_receipt(rbm.event_body("msg-1", "TTL_EXPIRATION_REVOKED", PHONE), {})
    assert receipts == [{"message_id": "msg-1", "status": "failed", "reason": "ttl_expired", "fallback": True,
                         "channel": "rcs"}]
    result = provider.send_fallback(message(1), "ttl_expired")
    assert (result.channel, result.fallback_reason) == ("sms", "ttl_expired") and list(sms.received) == ["msg-1"]


def test_delivery_events_become_receipts_and_replies_are_inbound(build: Any, rbm: Any) -> None:
    provider = build("rcs")
    assert provider.parse_receipt(rbm.event_body("msg-9", "DELIVERED"), {})[0]["status"] == "delivered"
    assert provider.parse_receipt(rbm.event_body("msg-9", "READ", pubsub=False), {})[0]["status"] == "delivered"
    assert provider.parse_receipt(rbm.event_body("msg-9", "IS_TYPING"), {}) == []
    assert provider.parse_inbound(rbm.user_message_body("SAIR", PHONE), {}) == [{"phone": PHONE, "text": "SAIR"}]
    with pytest.raises(PermanentProviderError):
        provider.parse_receipt(b"not json", {})


def test_the_token_is_fetched_once_and_reused(build: Any, rbm: Any) -> None:
    provider = build("rcs")
    for n in range(5):
        provider.send(message(n, phone=f"+55119876500{n:02d}"))
    assert rbm.token_requests == 1


def test_an_expiring_token_is_renewed_before_it_lapses(build: Any, rbm: Any, clock: Any) -> None:
    provider = build("rcs")
    provider.send(message(1))
    clock.advance(seconds=3600 - 61)
    provider.send(message(2))
    assert rbm.token_requests == 1
    clock.advance(seconds=2)  # inside the last minute: renew
    provider.send(message(3))
    assert rbm.token_requests == 2


def test_a_revoked_token_gets_one_refresh_on_401(build: Any, rbm: Any) -> None:
    provider = build("rcs")
    provider.send(message(1))
    rbm.expire_tokens()
    assert provider.send(message(2)).accepted
    assert rbm.token_requests == 2


def test_a_bad_service_account_is_a_permanent_error(build: Any, rbm: Any) -> None:
    other = json.loads(rbm.service_account_json())
    other["client_email"] = "intruder@example.iam.gserviceaccount.com"
    with pytest.raises(PermanentProviderError, match="invalid_grant|Invalid issuer"):
        build("rcs", service_account_json=json.dumps(other)).send(message(1))
    with pytest.raises(PermanentProviderError, match="PEM"):
        build("rcs", service_account_json=json.dumps({**other, "private_key": "nope"})).send(message(1))


def test_a_token_endpoint_outage_is_transient(build: Any, rbm: Any) -> None:
    rbm.fail_next(1, 503, path="^/token$")
    with pytest.raises(TransientProviderError):
        build("rcs").send(message(1))


def test_rich_cards_need_the_feature_and_degrade_to_text(build: Any, rbm: Any) -> None:
    card = {"standaloneCard": {"cardOrientation": "VERTICAL", "cardContent": {
        "title": "Promo", "media": {"height": "MEDIUM", "contentInfo": {"fileUrl": "https://cdn.example/p.png"}}}}}
    provider = build("rcs")
    provider.send(message(1, rich_card=card))
    assert rbm.received["msg-1"]["contentMessage"] == {"richCard": card}
    rbm.no_rich_cards.add("+5511987650002")
    provider.send(message(2, phone="+5511987650002", media_url="https://cdn.example/p.png"))
    assert rbm.received["msg-2"]["contentMessage"] == {"text": "Olá Ana, promoção! https://cdn.example/p.png"}


def test_content_mapping_holds_exactly_one_content_field() -> None:
    features = ["RICHCARD_STANDALONE"]
    assert content_message(message(1, text="", media_url="https://x/y.png"), features) == {
        "contentInfo": {"fileUrl": "https://x/y.png"}}
    both = content_message(message(1, media_url="https://x/y.png"), features)
    assert list(both) == ["richCard"]
    suggestions = [{"reply": {"text": "SAIR", "postbackData": "optout"}}]
    assert content_message(message(1, attributes={"rcs_suggestions": suggestions}), features)["suggestions"] == \
        suggestions


def test_revoke_tells_delivered_from_revoked(build: Any, rbm: Any) -> None:
    provider = build("rcs")
    provider.send(message(1))
    assert provider.revoke(message(1)) is True
    assert provider.revoke(message(1)) is False  # already gone (or delivered): do not fall back blindly


def test_a_lenient_fake_accepts_any_service_account_for_demos(settings: Any, clock: Any, sms: Any) -> None:
    from retaguarda.campaigns.providers import make_provider
    from tests.fakes.campaigns.rbm import start_fake_rbm

    other = start_fake_rbm(lenient=True)  # its own key; the client signs with another fake's key
    strict = start_fake_rbm()
    try:
        account = strict.service_account_json()
        for fake, ok in ((other, True), (strict, False)):
            provider = make_provider("rcs", settings=Settings(rcs_url=fake.base_url, rcs_token_url=fake.base_url),
                                     credentials={"agent_id": "demo-agent", "service_account_json": account},
                                     clock=clock)
            if ok:
                assert provider.send(message(1)).channel == "rcs"
            else:  # strict: the agent id is wrong for this fake -> 403 permanent
                with pytest.raises(PermanentProviderError):
                    provider.send(message(1))
    finally:
        other.stop()
        strict.stop()
