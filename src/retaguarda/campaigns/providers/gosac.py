"""GOSAC: the whole wire mapping (contract: docs/providers/gosac.md).

GOSAC publishes no API; written against our documented contract. Two steps, as the seed says:
`prepare` creates the campaign (idempotent by our campaign id as `external_id`) and uploads the
contacts in chunks (idempotent by contact `key` = our message id); `start`, two minutes later,
is `PUT /api/v1/campaigns/{id}/start` (idempotent: starting a started campaign answers 200).
"""

from __future__ import annotations

from typing import Any

from retaguarda.campaigns.providers.base import (
    HttpProvider,
    OutboundMessage,
    ProviderError,
    json_body,
    load_json,
    require,
)

CONTACTS_PER_CALL = 1000


class GosacProvider(HttpProvider):
    name = "gosac"
    two_step = True
    step_delay_seconds = 120.0

    def _headers(self) -> dict[str, str]:
        (token,) = require(self._credentials, self.name, "token")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self._credentials.get("account_id"):
            headers["X-Account-Id"] = str(self._credentials["account_id"])
        return headers

    def _create(self, campaign: dict[str, Any], text: str, media_url: str | None) -> dict[str, Any]:
        payload = {"external_id": str(campaign["id"]), "name": campaign.get("name") or str(campaign["id"]),
                   "reference": campaign.get("external_id"),
                   "message": {"text": text, "media_url": media_url}}
        response = self._request("POST", f"{self.base_url}/api/v1/campaigns", json=payload,
                                 headers=self._headers())
        data = json_body(self.name, response)
        if not data.get("id"):
            raise ProviderError("transient", "response without campaign id", status=response.status_code,
                                provider=self.name)
        return data

    def prepare(self, campaign: dict[str, Any], messages: list[OutboundMessage]) -> dict[str, Any]:
        first = messages[0] if messages else None
        text = campaign.get("text") or (first.text if first else "")
        media_url = campaign.get("media_url") or (first.media_url if first else None)
        created = self._create(campaign, text, media_url)
        gosac_id = str(created["id"])
        rejected: dict[str, str] = {}
        total = int(created.get("contacts") or 0)
        for start in range(0, len(messages), CONTACTS_PER_CALL):
            chunk = messages[start:start + CONTACTS_PER_CALL]
            contacts = []
            for msg in chunk:
                if not msg.to_phone:
                    rejected[msg.message_id] = "GOSAC sends to phone numbers only"
                    continue
                contacts.append({"key": msg.message_id, "phone": msg.to_phone, "name": msg.name,
                                 "text": msg.text if msg.text != text else None,
                                 "variables": {str(k): v for k, v in msg.attributes.items()}})
            if not contacts:
                continue
            response = self._request("POST", f"{self.base_url}/api/v1/campaigns/{gosac_id}/contacts",
                                     json={"contacts": contacts}, headers=self._headers())
            data = json_body(self.name, response)
            total = int(data.get("total", total))
            for item in data.get("rejected") or []:
                rejected[str(item.get("key"))] = str(item.get("reason") or "rejected")
        return {"provider_campaign_id": gosac_id, "contacts": total, "rejected": rejected}

    def start(self, campaign: dict[str, Any], refs: dict[str, Any],
              messages: list[OutboundMessage] | None = None) -> dict[str, Any]:
        """PUT start (the contacts went up in `prepare`; `messages` is not needed)."""
        gosac_id = refs.get("provider_campaign_id")
        if not gosac_id:  # refs lost: look the campaign up by our id
            gosac_id = self._find(str(campaign["id"]))
        response = self._request("PUT", f"{self.base_url}/api/v1/campaigns/{gosac_id}/start",
                                 headers=self._headers())
        data = json_body(self.name, response)
        return {"provider_campaign_id": str(gosac_id), "status": data.get("status", "started"),
                "contacts": data.get("contacts")}

    def _find(self, external_id: str) -> str:
        response = self._request("GET", f"{self.base_url}/api/v1/campaigns", params={"external_id": external_id},
                                 headers=self._headers())
        items = json_body(self.name, response).get("items") or []
        if not items:
            raise ProviderError("permanent", "campaign was never created (prepare first)", status=404,
                                provider=self.name)
        return str(items[0]["id"])

    def _probe(self) -> str:
        data = json_body(self.name, self._request("GET", f"{self.base_url}/api/v1/me", headers=self._headers()))
        return f"account {data.get('account', '?')}"

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise ProviderError("permanent", "receipt without results[]", provider=self.name)
        receipts = []
        for item in results:
            status = {"DELIVERED": "delivered", "READ": "delivered", "FAILED": "failed",
                      "INVALID": "failed"}.get(str(item.get("status", "")).upper())
            if status:
                receipts.append({"message_id": item.get("key"), "status": status, "reason": item.get("error")})
        return receipts
