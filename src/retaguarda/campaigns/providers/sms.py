"""The SMS provider behind RCS fallback: the whole wire mapping (contract: docs/providers/sms.md).

`POST /v1/sms` with our message id as `id` (the provider's idempotency key: a repeated id answers
200 with the first message, never a second SMS).
"""

from __future__ import annotations

from typing import Any

from retaguarda.campaigns.providers.base import (
    HttpProvider,
    OutboundMessage,
    ProviderError,
    SendResult,
    json_body,
    load_json,
    require,
)

MAX_TEXT = 1600
"""Longest text the contract accepts (10 concatenated segments)."""


class SmsProvider(HttpProvider):
    name = "sms"

    def _headers(self) -> dict[str, str]:
        (api_key,) = require(self._credentials, self.name, "api_key")
        return {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def send(self, msg: OutboundMessage) -> SendResult:
        if not msg.to_phone:
            raise ProviderError("permanent", "SMS needs a phone number", provider=self.name)
        text = sms_text(msg)
        if len(text) > MAX_TEXT:
            raise ProviderError("permanent", f"text longer than {MAX_TEXT} characters", provider=self.name)
        payload = {"id": msg.message_id, "from": self._credentials.get("sender") or None,
                   "to": msg.to_phone, "text": text}
        response = self._request("POST", f"{self.base_url}/v1/sms", json=payload, headers=self._headers())
        data = json_body(self.name, response)
        if not data.get("id"):
            raise ProviderError("transient", "response without id", status=response.status_code,
                                provider=self.name)
        return SendResult(provider_message_id=str(data["id"]), channel="sms", accepted=True,
                          raw_status=response.status_code)

    def _probe(self) -> str:
        data = json_body(self.name, self._request("GET", f"{self.base_url}/v1/balance",
                                                  headers=self._headers()))
        return f"balance {data.get('balance', '?')}"

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        items = data if isinstance(data, list) else [data]
        receipts = []
        for item in items:
            if not isinstance(item, dict) or "status" not in item:
                raise ProviderError("permanent", "not an SMS status report", provider=self.name)
            status = {"delivered": "delivered", "failed": "failed", "undeliverable": "failed"}.get(
                str(item["status"]).lower())
            if status:
                receipts.append({"message_id": item.get("client_id"), "provider_message_id": item.get("id"),
                                 "status": status, "reason": item.get("error")})
        return receipts


def sms_text(msg: OutboundMessage) -> str:
    """SMS carries text only: a media URL (or a rich card's media) is appended as a link."""
    text = msg.text or ""
    media = msg.media_url
    if not media and msg.rich_card:
        media = _card_media_url(msg.rich_card)
    if media and media not in text:
        text = f"{text} {media}".strip()
    return text


def _card_media_url(card: dict[str, Any]) -> str | None:
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("fileUrl"), str):
                return node["fileUrl"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None
