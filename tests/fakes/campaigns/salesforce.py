"""Fake Salesforce Marketing Cloud: `/v2/token`, data-extension rowsets, Transactional Messaging
(SMS and e-mail, single and batch) and journey entry events.

    sf = start_fake_salesforce(client_id="id", client_secret="secret", token_lifetime=1079)
    settings: salesforce_url = sf.base_url   (the token answer's rest_instance_url is sf.base_url too)
    sf.expire_tokens()                        # issued tokens now get 401
    sf.throttle_next(1, retry_after=5)        # 429 {"errorcode": 50100, "retryAfter": 5}

Messages are delivered (ledger `received`, keyed by messageKey) when a send is accepted; a
messageKey seen before is rejected per message like MC does (duplicate within 72 h).
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, bearer, run_cli

DUPLICATE = {"errorcode": 109106, "message": "MCMS_UTM_Validation_DuplicateMessageKey"}


class FakeSalesforce(FakeProvider):
    name = "salesforce"

    def __init__(self, *, client_id: str = "sf-client", client_secret: str = "sf-secret",
                 token_lifetime: int = 1079, definitions: tuple[str, ...] = ("retaguarda-sms", "retaguarda-email"),
                 event_definitions: tuple[str, ...] = ("APIEvent-retaguarda",), **kwargs: Any) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.token_lifetime = token_lifetime
        self.token_valid_for: float | None = None
        """When set, tokens die after this many seconds although `expires_in` promised more."""
        self.definitions = set(definitions)
        self.event_definitions = set(event_definitions)
        self.valid_tokens: dict[str, float] = {}
        """token -> monotonic expiry: tokens also lapse on their own after `token_lifetime` s."""
        self.token_requests = 0
        self.data_extensions: dict[str, dict[str, dict[str, Any]]] = {}
        self.rowset_calls = 0
        self.send_calls = 0
        self.events: list[dict[str, Any]] = []
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/v2/token", self.token)
        self.route("POST", r"/hub/v1/dataevents/key:(?P<de>[^/]+)/rowset", self.rowset)
        self.route("POST", r"/messaging/v1/(?P<channel>sms|email)/messages/", self.send_batch)
        self.route("POST", r"/messaging/v1/(?P<channel>sms|email)/messages/(?P<key>[^/]+)", self.send_single)
        self.route("POST", "/interaction/v1/events", self.fire_event)

    def reset_state(self) -> None:
        self.valid_tokens.clear()
        self.data_extensions.clear()
        self.events.clear()
        self.token_requests = self.rowset_calls = self.send_calls = 0

    def error_body(self, status: int, retry_after: float | None) -> Any:
        if status == 429:
            return {"message": "Rate limit exceeded", "errorcode": 50100, "retryAfter": retry_after,
                    "documentation": "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/rate-limiting-errors.htm"}
        return {"message": f"injected HTTP {status}", "errorcode": 0}

    def expire_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def token(self, request: Request) -> Reply:
        body = request.json()
        with self.lock:
            self.token_requests += 1
        if body.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return Reply(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        token = f"eyJfake{next(self._seq)}"
        with self.lock:
            self.valid_tokens[token] = time.monotonic() + (self.token_valid_for or self.token_lifetime)
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime,
                           "scope": "sms_read sms_send email_send journeys_execute data_extensions_write",
                           "soap_instance_url": f"{self.base_url}/soap/", "rest_instance_url": f"{self.base_url}/"})

    def _auth(self, request: Request) -> Reply | None:
        with self.lock:
            if self.valid_tokens.get(bearer(request) or "", 0.0) <= time.monotonic():
                return Reply(401, {"message": "Not Authorized", "errorcode": 0,
                                   "documentation": "https://developer.salesforce.com/docs"})
        return None

    def rowset(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        rows = request.json()
        if not isinstance(rows, list):
            return Reply(400, {"message": "Body must be an array of rows", "errorcode": 10000})
        de = self.data_extensions.setdefault(request.match["de"] if request.match else "", {})
        with self.lock:
            self.rowset_calls += 1
            for row in rows:
                key = (row.get("keys") or {}).get("MessageKey")
                if not key:
                    return Reply(400, {"message": "Primary key MessageKey missing", "errorcode": 10002})
                de[key] = row.get("values") or {}
        return Reply(200, rows[:0])

    def _check_recipient(self, channel: str, r: dict[str, Any]) -> dict[str, Any] | None:
        to = str(r.get("to") or "")
        if not r.get("contactKey") or not to:
            return {"errorcode": 10002, "message": "MCMS_UTM_Validation_MissingRequiredField"}
        if (channel == "email" and "@" not in to) or (channel == "sms" and not to.lstrip("+").isdigit()):
            return {"errorcode": 10003, "message": "MCMS_UTM_Validation_IncorrectFormat"}
        return None

    def send_batch(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        channel = request.match["channel"] if request.match else "sms"
        body = request.json()
        if body.get("definitionKey") not in self.definitions:
            return Reply(400, {"message": "MCMS_UTM_Runtime_ObjectNotFound", "errorcode": 30003})
        recipients = body.get("recipients")
        if not isinstance(recipients, list) or not recipients or "recipient" in body:
            return Reply(400, {"message": "MCMS_UTM_Validation_NoSubscribers", "errorcode": 109102})
        responses = []
        seen: set[str] = set()
        with self.lock:
            self.send_calls += 1
            for r in recipients:
                key = str(r.get("messageKey") or uuid.uuid4())
                error = self._check_recipient(channel, r)
                if error is None and (key in seen or key in self.received):
                    self.attempts[key] += 1
                    error = DUPLICATE
                seen.add(key)
                if error is None:
                    self.deliver(key, {**r, "definitionKey": body["definitionKey"], "channel": channel}, r["to"])
                responses.append({"messageKey": key, **(error or {})})
        has_errors = any("errorcode" in r for r in responses)
        return Reply(202, {"requestId": str(uuid.uuid4()), "errorcode": 109001 if has_errors else 0,
                           "responses": responses})

    def send_single(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        channel = request.match["channel"] if request.match else "sms"
        key = request.match["key"] if request.match else ""
        body = request.json()
        if body.get("definitionKey") not in self.definitions:
            return Reply(400, {"message": "MCMS_UTM_Runtime_ObjectNotFound", "errorcode": 30003})
        recipient = body.get("recipient") or {}
        error = self._check_recipient(channel, recipient)
        if error:
            return Reply(400, error)
        with self.lock:
            self.send_calls += 1
            if not self.deliver(key, {**recipient, "definitionKey": body["definitionKey"], "channel": channel},
                                recipient["to"]):
                return Reply(400, DUPLICATE)
        return Reply(202, {"requestId": str(uuid.uuid4()), "errorcode": 0, "responses": [{"messageKey": key}]})

    def fire_event(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        if body.get("EventDefinitionKey") not in self.event_definitions:
            return Reply(400, {"message": "Event definition key not found", "errorcode": 30000})
        if not body.get("ContactKey"):
            return Reply(400, {"message": "ContactKey is required", "errorcode": 10002})
        data = body.get("Data") or {}
        with self.lock:
            self.events.append(body)
            self.deliver(str(data.get("MessageKey") or uuid.uuid4()), body, data.get("Phone") or data.get("Email"))
        return Reply(201, {"eventInstanceId": str(uuid.uuid4())})

    def notification(self, message_key: str, category: str = "TransactionalSendEvents.SmsSent",
                     status_message: str | None = None) -> list[dict[str, Any]]:
        """An Event Notification Service callback body for `message_key`."""
        return [{"eventCategoryType": category, "timestampUTC": 1700000000000, "compositeId": str(uuid.uuid4()),
                 "info": {"messageKey": message_key, "statusMessage": status_message}}]


def start_fake_salesforce(**kwargs: Any) -> FakeSalesforce:
    return FakeSalesforce(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeSalesforce)
