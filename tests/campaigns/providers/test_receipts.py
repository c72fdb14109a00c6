"""Delivery receipts each provider posts to `POST /api/v1/campaigns/receipts/{provider}`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retaguarda.campaigns.providers import PermanentProviderError
from tests.fakes.campaigns.samples import message


def test_cda_receipts_map_final_states_and_skip_the_rest(build: Any, cda: Any) -> None:
    provider = build("cda")
    provider.send(message(1))
    delivered = json.dumps(cda.receipt("msg-1")).encode()
    assert provider.parse_receipt(delivered, {}) == [
        {"message_id": "msg-1", "provider_message_id": cda.ids["msg-1"], "status": "delivered", "reason": None}]
    mixed = json.dumps({"events": [{"reference": "msg-2", "status": "UNDELIVERED", "reason": "absent subscriber"},
                                   {"reference": "msg-3", "status": "sent"}]}).encode()
    assert provider.parse_receipt(mixed, {}) == [
        {"message_id": "msg-2", "provider_message_id": None, "status": "failed", "reason": "absent subscriber"}]


def test_noah_receipts_accept_one_or_many(build: Any) -> None:
    provider = build("noah")
    one = {"messageKey": "msg-1", "protocol": "NOAH-1", "status": "READ"}
    many = [one, {"messageKey": "msg-2", "protocol": "NOAH-2", "status": "FAILED", "reason": "not on WhatsApp"},
            {"messageKey": "msg-3", "status": "SENT"}]
    assert provider.parse_receipt(json.dumps(one).encode(), {})[0]["status"] == "delivered"
    assert [r["status"] for r in provider.parse_receipt(json.dumps(many).encode(), {})] == ["delivered", "failed"]


def test_sms_receipts(build: Any) -> None:
    provider = build("sms")
    body = json.dumps({"id": "sms_1", "client_id": "msg-1", "status": "undeliverable", "error": "EC_ABSENT"}).encode()
    assert provider.parse_receipt(body, {}) == [
        {"message_id": "msg-1", "provider_message_id": "sms_1", "status": "failed", "reason": "EC_ABSENT"}]


@pytest.mark.parametrize("name", ["cda", "noah", "sms", "gosac", "rcs", "salesforce"])
def test_a_body_that_is_not_a_receipt_is_refused(build: Any, name: str) -> None:
    provider = build(name)
    with pytest.raises(PermanentProviderError):
        provider.parse_receipt(b"<xml/>", {})
    with pytest.raises(PermanentProviderError):
        provider.parse_receipt(b'[{"unexpected": 1}]', {})

