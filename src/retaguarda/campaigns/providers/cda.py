"""CDA: the whole wire mapping (contract: docs/providers/cda.md).

CDA publishes no API; this module is written against our documented contract so the vendor's real
one replaces it here and nowhere else. Single step: one `POST /v1/messages` per recipient with our
message id as `Idempotency-Key`. The seed limits CDA to 3 attempts (a pipeline setting).
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

_RECEIPT_STATUS = {"delivered": "delivered", "undelivered": "failed", "failed": "failed",
                   "rejected": "failed", "expired": "failed"}


class CdaProvider(HttpProvider):
    name = "cda"

    def _headers(self) -> dict[str, str]:
        (api_key,) = require(self._credentials, self.name, "api_key")
        return {"X-Api-Key": api_key, "Accept": "application/json"}

    def send(self, msg: OutboundMessage) -> SendResult:
        if not msg.to_phone:
            raise ProviderError("permanent", "CDA sends to phone numbers only", provider=self.name)
        payload: dict[str, Any] = {
            "reference": msg.message_id,
            "campaign": {"id": msg.campaign_id, "external_id": msg.external_campaign_id},
            "sender": self._credentials.get("sender") or None,
            "recipient": {"phone": msg.to_phone, "name": msg.name},
            "message": {"text": msg.text, "media_url": msg.media_url},
            "variables": {str(k): v for k, v in msg.attributes.items()},
        }
        headers = {**self._headers(), "Idempotency-Key": msg.message_id}
        response = self._request("POST", f"{self.base_url}/v1/messages", json=payload, headers=headers)
        data = json_body(self.name, response)
        if not data.get("id"):
            raise ProviderError("transient", "response without id", status=response.status_code,
                                provider=self.name)
        return SendResult(provider_message_id=str(data["id"]), channel=data.get("channel") or "sms",
                          accepted=True, raw_status=response.status_code)

    def _probe(self) -> str:
        response = self._request("GET", f"{self.base_url}/v1/account", headers=self._headers())
        data = json_body(self.name, response)
        return f"account {data.get('account', '?')}"

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list):
            raise ProviderError("permanent", "receipt without events[]", provider=self.name)
        receipts = []
        for event in events:
            status = _RECEIPT_STATUS.get(str(event.get("status", "")).lower())
            if status is None:  # intermediate states (sent, queued) are not receipts
                continue
            receipts.append({"message_id": event.get("reference"), "provider_message_id": event.get("id"),
                             "status": status, "reason": event.get("reason")})
        return receipts
