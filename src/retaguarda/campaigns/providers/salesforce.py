"""Salesforce Marketing Cloud Engagement: the whole wire mapping (see docs/providers/README.md).

- Token: `POST {auth}/v2/token` (client credentials; auth host from `settings.salesforce_url` or
  `https://{subdomain}.auth.marketingcloudapis.com`); the token and its `rest_instance_url` are
  cached until a minute before `expires_in`; a 401 drops the token and retries once.
- Step 1 (`prepare`, "send the contacts"): upsert one row per message into the campaign data
  extension, `POST {rest}/hub/v1/dataevents/key:{de}/rowset`, keyed by `MessageKey` (our message
  id), 500 rows per call; upserts make a re-run harmless.
- Step 2 (`start`, 20 minutes later, "trigger the send"): `send_mode = "transactional"` (default)
  posts the recipients to Transactional Messaging (`/messaging/v1/sms/messages/` or
  `/messaging/v1/email/messages/`) with `messageKey` = our message id, which MC rejects as a
  duplicate for 72 h, so a re-run never sends twice; `send_mode = "journey"` fires the journey
  entry event (`POST /interaction/v1/events`) per contact.
- 429: `Retry-After` (or the body's `retryAfter`) → transient error with `retry_after`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from retaguarda.campaigns.providers.base import (
    HttpProvider,
    OutboundMessage,
    ProviderError,
    SendResult,
    TokenCache,
    json_body,
    load_json,
    require,
    shared_token_cache,
)

TOKEN_SKEW = timedelta(seconds=60)
ROWS_PER_CALL = 500
RECIPIENTS_PER_CALL = 250
DEFAULT_DATA_EXTENSION = "RetaguardaCampaignContacts"
_DUPLICATE_HINTS = ("duplicate", "alreadyexists", "already exists")


class SalesforceProvider(HttpProvider):
    name = "salesforce"
    two_step = True
    step_delay_seconds = 1200.0

    def __init__(self, *, auth_url: str, credentials: dict[str, Any], clock: Any,
                 token_cache: TokenCache | None = None, **kwargs: Any) -> None:
        subdomain = str(credentials.get("subdomain") or "").strip()
        base = auth_url or (f"https://{subdomain}.auth.marketingcloudapis.com" if subdomain else "")
        super().__init__(base_url=base, credentials=credentials, clock=clock, **kwargs)
        self.token_cache = token_cache or shared_token_cache()

    # --- auth ------------------------------------------------------------------------------

    def _cache_key(self) -> str:
        return f"salesforce:{self.base_url}:{self._credentials.get('client_id')}:{self._credentials.get('account_id') or ''}"

    def _session(self, *, fresh: bool = False) -> tuple[str, str]:
        """(access token, REST base URL)."""
        if not self.base_url:
            raise ProviderError("permanent", "missing credential 'subdomain'", provider=self.name)
        if not fresh:
            cached = self.token_cache.get(self._cache_key())
            if cached and cached[1] - TOKEN_SKEW > self._now():
                session = json.loads(cached[0])
                return session["token"], session["rest"]
        client_id, client_secret = require(self._credentials, self.name, "client_id", "client_secret")
        body: dict[str, Any] = {"grant_type": "client_credentials", "client_id": client_id,
                                "client_secret": client_secret}
        if self._credentials.get("account_id"):
            body["account_id"] = str(self._credentials["account_id"])
        now = self._now()
        response = self._request("POST", f"{self.base_url}/v2/token", json=body)
        data = json_body(self.name, response)
        token, rest = data.get("access_token"), data.get("rest_instance_url")
        if not token or not rest:
            raise ProviderError("transient", "token response without access_token/rest_instance_url",
                                provider=self.name)
        rest = str(rest).rstrip("/")
        expires_at = now + timedelta(seconds=float(data.get("expires_in") or 1079))
        self.token_cache.set(self._cache_key(), json.dumps({"token": token, "rest": rest}), expires_at)
        return str(token), rest

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        token, rest = self._session()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}
        try:
            return self._request(method, f"{rest}{path}", headers=headers, **kwargs)
        except ProviderError as exc:
            if exc.status != 401:
                raise
        self.token_cache.delete(self._cache_key())
        token, rest = self._session(fresh=True)
        headers["Authorization"] = f"Bearer {token}"
        return self._request(method, f"{rest}{path}", headers=headers, **kwargs)

    # --- step 1: contacts ------------------------------------------------------------------

    @property
    def data_extension(self) -> str:
        return str(self._credentials.get("data_extension_key") or DEFAULT_DATA_EXTENSION)

    def prepare(self, campaign: dict[str, Any], messages: list[OutboundMessage]) -> dict[str, Any]:
        rejected: dict[str, str] = {}
        rows = []
        for msg in messages:
            if not (msg.to_phone or msg.to_email):
                rejected[msg.message_id] = "no phone or e-mail"
                continue
            rows.append({"keys": {"MessageKey": msg.message_id},
                         "values": {"ContactKey": contact_key(msg), "CampaignId": msg.campaign_id,
                                    "ExternalCampaignId": msg.external_campaign_id,
                                    "Phone": (msg.to_phone or "").lstrip("+"), "Email": msg.to_email or "",
                                    "Name": msg.name or "", "Text": msg.text,
                                    **{str(k): _flat(v) for k, v in msg.attributes.items()}}})
        for start in range(0, len(rows), ROWS_PER_CALL):
            self._call("POST", f"/hub/v1/dataevents/key:{self.data_extension}/rowset",
                       json=rows[start:start + ROWS_PER_CALL])
        return {"data_extension_key": self.data_extension, "rows": len(rows), "rejected": rejected}

    # --- step 2: the send ------------------------------------------------------------------

    def start(self, campaign: dict[str, Any], refs: dict[str, Any],
              messages: list[OutboundMessage] | None = None) -> dict[str, Any]:
        """Triggers the MC send for `messages` (call it per batch; every call is idempotent)."""
        if not messages:
            raise ProviderError("permanent", "Salesforce start needs the campaign's messages",
                                provider=self.name)
        mode = str(self._credentials.get("send_mode") or "transactional").lower()
        accepted: list[str] = []
        rejected: dict[str, str] = {}
        if mode == "journey":
            for msg in messages:
                try:
                    self._fire_event(msg)
                    accepted.append(msg.message_id)
                except ProviderError as exc:
                    if exc.kind != "permanent":
                        raise
                    rejected[msg.message_id] = exc.detail
            return {"mode": mode, "accepted": accepted, "rejected": rejected}
        for channel in ("sms", "email"):
            batch = [m for m in messages if (m.to_email if channel == "email" else m.to_phone)]
            for start in range(0, len(batch), RECIPIENTS_PER_CALL):
                chunk = batch[start:start + RECIPIENTS_PER_CALL]
                ok, bad, request_id = self._send_batch(channel, chunk)
                accepted += ok
                rejected.update(bad)
        for msg in messages:
            if not (msg.to_phone or msg.to_email):
                rejected[msg.message_id] = "no phone or e-mail"
        return {"mode": mode, "accepted": accepted, "rejected": rejected}

    def _definition_key(self, channel: str) -> str:
        field = "email_definition_key" if channel == "email" else "sms_definition_key"
        return require(self._credentials, self.name, field)[0]

    def _recipient(self, msg: OutboundMessage, channel: str) -> dict[str, Any]:
        return {"contactKey": contact_key(msg), "to": msg.to_email if channel == "email" else msg.to_phone,
                "messageKey": msg.message_id,
                "attributes": {"Name": msg.name or "", "Text": msg.text,
                               **{str(k): _flat(v) for k, v in msg.attributes.items()}}}

    def _send_batch(self, channel: str, chunk: list[OutboundMessage]) -> tuple[list[str], dict[str, str], str]:
        body = {"definitionKey": self._definition_key(channel),
                "recipients": [self._recipient(m, channel) for m in chunk]}
        response = self._call("POST", f"/messaging/v1/{channel}/messages/", json=body)
        data = json_body(self.name, response)
        accepted, rejected = [], {}
        wanted = {m.message_id for m in chunk}
        for item in data.get("responses") or []:
            key = str(item.get("messageKey"))
            if key not in wanted:
                continue
            wanted.discard(key)
            error = item.get("errors") or item.get("errorcode")
            if not error or _is_duplicate(item):
                accepted.append(key)
            else:
                rejected[key] = str(item.get("message") or error)[:300]
        accepted += sorted(wanted)  # no per-message entry: the batch as a whole was accepted
        return accepted, rejected, str(data.get("requestId") or "")

    def _fire_event(self, msg: OutboundMessage) -> str:
        (event_key,) = require(self._credentials, self.name, "event_definition_key")
        body = {"ContactKey": contact_key(msg), "EventDefinitionKey": event_key,
                "Data": {"MessageKey": msg.message_id, "Phone": (msg.to_phone or "").lstrip("+"),
                         "Email": msg.to_email or "", "Name": msg.name or "", "Text": msg.text,
                         **{str(k): _flat(v) for k, v in msg.attributes.items()}}}
        data = json_body(self.name, self._call("POST", "/interaction/v1/events", json=body))
        return str(data.get("eventInstanceId") or "")

    def send(self, msg: OutboundMessage) -> SendResult:
        """One transactional message (retrying a single message outside the batch)."""
        channel = "email" if msg.to_email and not msg.to_phone else "sms"
        if not (msg.to_phone or msg.to_email):
            raise ProviderError("permanent", "no phone or e-mail", provider=self.name)
        body = {"definitionKey": self._definition_key(channel), "recipient": self._recipient(msg, channel)}
        body["recipient"].pop("messageKey")
        try:
            response = self._call("POST", f"/messaging/v1/{channel}/messages/{msg.message_id}", json=body)
        except ProviderError as exc:
            if exc.kind == "permanent" and any(h in exc.detail.lower().replace(" ", "") for h in
                                               ("duplicate", "alreadyexists")):
                return SendResult(provider_message_id=msg.message_id, channel=channel, accepted=True,
                                  raw_status=exc.status or 400)
            raise
        json_body(self.name, response)
        return SendResult(provider_message_id=msg.message_id, channel=channel,  # type: ignore[arg-type]
                          accepted=True, raw_status=response.status_code)

    def _probe(self) -> str:
        self._session(fresh=True)
        return "token ok"

    # --- receipts (Event Notification Service callbacks) -----------------------------------

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        items = data if isinstance(data, list) else [data]
        receipts = []
        for item in items:
            if not isinstance(item, dict) or "eventCategoryType" not in item:
                raise ProviderError("permanent", "not an Event Notification Service callback", provider=self.name)
            category = str(item["eventCategoryType"])
            info = item.get("info") or {}
            key = info.get("messageKey")
            if category.endswith(("EmailSent", "SmsSent", "SmsDelivered", "EmailDelivered")):
                receipts.append({"message_id": key, "status": "delivered", "reason": None})
            elif category.endswith(("NotSent", "Bounced", "SmsNotDelivered", "Undelivered")):
                reason = info.get("statusMessage") or info.get("statusCode") or category
                receipts.append({"message_id": key, "status": "failed", "reason": str(reason)})
        return receipts


def contact_key(msg: OutboundMessage) -> str:
    """MC contact key: the recipient's stable identity (attribute `contact_key`, else phone/e-mail)."""
    return str(msg.attributes.get("contact_key") or msg.to_phone or msg.to_email or msg.message_id)


def _flat(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else json.dumps(value)


def _is_duplicate(item: dict[str, Any]) -> bool:
    text = json.dumps(item).lower().replace(" ", "").replace("_", "")
    return any(h.replace(" ", "") in text for h in _DUPLICATE_HINTS)
