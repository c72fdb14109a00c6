"""NOAH: the whole wire mapping (contract: docs/providers/noah.md).

NOAH publishes no API; written against our documented contract. Single step: `POST /api/messages`
with HTTP Basic auth (client id/secret) and our message id as `messageKey` (idempotent: a repeated
key answers 200 with the first protocol number).
"""

from __future__ import annotations

from typing import Any

import httpx

from retaguarda.campaigns.providers.base import (
    HttpProvider,
    OutboundMessage,
    ProviderError,
    SendResult,
    json_body,
    load_json,
    require,
)

_CHANNELS = ("whatsapp", "sms")
_FINAL = {"DELIVERED": "delivered", "READ": "delivered", "FAILED": "failed", "REJECTED": "failed",
          "EXPIRED": "failed"}


class NoahProvider(HttpProvider):
    name = "noah"

    def _auth(self) -> httpx.BasicAuth:
        client_id, secret = require(self._credentials, self.name, "client_id", "client_secret")
        return httpx.BasicAuth(client_id, secret)

    @property
    def channel(self) -> str:
        channel = str(self._credentials.get("channel") or "whatsapp").lower()
        if channel not in _CHANNELS:
            raise ProviderError("permanent", f"channel must be one of {_CHANNELS}", provider=self.name)
        return channel

    def send(self, msg: OutboundMessage) -> SendResult:
        if not msg.to_phone:
            raise ProviderError("permanent", "NOAH sends to phone numbers only", provider=self.name)
        payload: dict[str, Any] = {
            "messageKey": msg.message_id,
            "channel": self.channel,
            "to": msg.to_phone.lstrip("+"),
            "contactName": msg.name,
            "content": ({"type": "media", "text": msg.text, "mediaUrl": msg.media_url} if msg.media_url
                        else {"type": "text", "text": msg.text}),
            "parameters": {str(k): "" if v is None else str(v) for k, v in msg.attributes.items()},
            "tags": {"campaign": msg.external_campaign_id, "retaguardaCampaign": msg.campaign_id},
        }
        response = self._request("POST", f"{self.base_url}/api/messages", json=payload, auth=self._auth())
        data = json_body(self.name, response)
        protocol = data.get("protocol")
        if not protocol:
            raise ProviderError("transient", "response without protocol", status=response.status_code,
                                provider=self.name)
        return SendResult(provider_message_id=str(protocol), channel=self.channel,  # type: ignore[arg-type]
                          accepted=True, raw_status=response.status_code)

    def _probe(self) -> str:
        data = json_body(self.name, self._request("GET", f"{self.base_url}/api/status", auth=self._auth()))
        return f"status {data.get('status', '?')}"

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        items = data if isinstance(data, list) else [data]
        receipts = []
        for item in items:
            if not isinstance(item, dict) or "messageKey" not in item:
                raise ProviderError("permanent", "not a NOAH status callback", provider=self.name)
            status = _FINAL.get(str(item.get("status", "")).upper())
            if status:
                receipts.append({"message_id": item["messageKey"], "provider_message_id": item.get("protocol"),
                                 "status": status, "reason": item.get("reason")})
        return receipts
