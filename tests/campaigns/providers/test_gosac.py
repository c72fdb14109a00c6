"""GOSAC two-step client (create + contacts, then PUT start) against the fake GOSAC."""

from __future__ import annotations

from typing import Any

import pytest

from retaguarda.campaigns.providers import CampaignProvider, PermanentProviderError, TransientProviderError
from tests.fakes.campaigns.samples import message, messages

CAMPAIGN = {"id": "camp-1", "external_id": "wp-42", "name": "Black Friday"}


def test_gosac_is_two_step_with_a_two_minute_gap(build: Any) -> None:
    provider = build("gosac")
    assert isinstance(provider, CampaignProvider)
    assert provider.two_step is True and provider.step_delay_seconds == 120


def test_prepare_creates_the_campaign_and_uploads_contacts_start_delivers(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    batch = messages(2500)
    refs = provider.prepare(CAMPAIGN, batch)
    campaign = gosac.campaigns["camp-1"]
    assert refs == {"provider_campaign_id": campaign["id"], "contacts": 2500, "rejected": {}}
    assert campaign["status"] == "created" and gosac.received == {}  # nothing sent before start
    assert gosac.requests["POST /api/v1/campaigns/*/contacts"] == 3  # 1000 per call
    started = provider.start(CAMPAIGN, refs)
    assert started["status"] == "started" and started["contacts"] == 2500
    assert sorted(gosac.received) == sorted(m.message_id for m in batch) and gosac.duplicates() == {}


def test_prepare_and_start_are_idempotent(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    batch = messages(30)
    refs = provider.prepare(CAMPAIGN, batch[:20])
    again = provider.prepare(CAMPAIGN, batch)  # a re-run with the first 20 plus 10 more
    assert again["provider_campaign_id"] == refs["provider_campaign_id"] and again["contacts"] == 30
    assert len(gosac.campaigns) == 1
    provider.start(CAMPAIGN, again)
    provider.start(CAMPAIGN, again, batch)  # the uniform two-step call; GOSAC ignores messages
    assert len(gosac.start_calls) == 2 and len(gosac.received) == 30 and gosac.duplicates() == {}


def test_start_without_refs_finds_the_campaign_again(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    provider.prepare(CAMPAIGN, messages(3))
    assert provider.start(CAMPAIGN, {})["contacts"] == 3
    assert len(gosac.campaigns) == 1 and len(gosac.received) == 3
    with pytest.raises(PermanentProviderError, match="prepare first"):
        provider.start({"id": "never-prepared"}, {})


def test_invalid_contacts_are_reported_per_message(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    refs = provider.prepare(CAMPAIGN, [message(1), message(2, phone="+55"), message(3, phone=None,
                                                                                  to_email="a@b.c")])
    assert refs["contacts"] == 1
    assert set(refs["rejected"]) == {"msg-2", "msg-3"}


def test_step_failures_are_classified(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    gosac.fail_next(1, 503, path="^/api/v1/campaigns$")
    with pytest.raises(TransientProviderError):
        provider.prepare(CAMPAIGN, messages(2))
    refs = provider.prepare(CAMPAIGN, messages(2))
    gosac.throttle_next(1, retry_after=30, path="/start$")
    with pytest.raises(TransientProviderError) as caught:
        provider.start(CAMPAIGN, refs)
    assert caught.value.retry_after == 30
    provider.start(CAMPAIGN, refs)
    with pytest.raises(PermanentProviderError) as late:  # contacts after start: GOSAC refuses (409)
        provider.prepare(CAMPAIGN, messages(1, start=50))
    assert late.value.status == 409


def test_starting_an_empty_campaign_is_permanent(build: Any) -> None:
    provider = build("gosac")
    refs = provider.prepare({**CAMPAIGN, "text": "Oi"}, [])
    assert refs["contacts"] == 0
    with pytest.raises(PermanentProviderError) as caught:
        provider.start(CAMPAIGN, refs)
    assert caught.value.status == 422


def test_gosac_has_no_single_send_and_parses_receipts(build: Any, gosac: Any) -> None:
    provider = build("gosac")
    with pytest.raises(PermanentProviderError):
        provider.send(message(1))
    body = gosac.receipt("gsc_1", [("msg-1", "DELIVERED", None), ("msg-2", "FAILED", "blocked"), ("msg-3", "SENT", None)])
    import json

    assert provider.parse_receipt(json.dumps(body).encode(), {}) == [
        {"message_id": "msg-1", "status": "delivered", "reason": None},
        {"message_id": "msg-2", "status": "failed", "reason": "blocked"}]
    assert provider.test_connection()["ok"] is True
    assert build("gosac", token="bad").test_connection()["ok"] is False
