"""Google RCS Business Messaging (RBM) with SMS fallback: the whole wire mapping.

Protocol (Google's public REST reference, see docs/providers/README.md):
- OAuth2 for a service account: a JWT (RS256, signed with the account's private key) exchanged at
  `{settings.rcs_token_url}/token` for a bearer token, scope `rcsbusinessmessaging`; cached until
  a minute before `expires_in`, fetched again once on a 401.
- Capability check first: `GET /v1/phones/{E.164}/capabilities?requestId&agentId`; 404 means
  the phone cannot get RCS from this agent → SMS fallback.
- Send: `POST /v1/phones/{E.164}/agentMessages?messageId={our id}&agentId` (409 = we already sent
  this messageId: accepted, never a second message); 404 → SMS fallback.
- TTL: `ttl` on every message; RBM revokes it when it expires and posts `TTL_EXPIRATION_REVOKED`,
  which `parse_receipt` turns into `failed` + `fallback: True`; the pipeline then calls
  `send_fallback`. A message whose `expire_at` attribute has passed goes to SMS directly.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from retaguarda.campaigns.providers.base import (
    CampaignProvider,
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

SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
TOKEN_SKEW = timedelta(seconds=60)
DEFAULT_TTL_SECONDS = 86_400


class RcsProvider(HttpProvider):
    name = "rcs"

    def __init__(self, *, base_url: str, token_url: str, credentials: dict[str, Any], clock: Any,
                 sms_fallback: CampaignProvider | None = None, token_cache: TokenCache | None = None,
                 **kwargs: Any) -> None:
        super().__init__(base_url=base_url, credentials=credentials, clock=clock, **kwargs)
        self.token_url = token_url.rstrip("/") + "/token"
        self.sms_fallback = sms_fallback
        self.token_cache = token_cache or shared_token_cache()

    # --- auth ------------------------------------------------------------------------------

    def _service_account(self) -> dict[str, Any]:
        (raw,) = require(self._credentials, self.name, "service_account_json")
        try:
            account = raw if isinstance(raw, dict) else json.loads(raw)
        except ValueError:
            raise ProviderError("permanent", "service_account_json is not JSON", provider=self.name) from None
        if not account.get("client_email") or not account.get("private_key"):
            raise ProviderError("permanent", "service account needs client_email and private_key",
                                provider=self.name)
        return account

    def _cache_key(self, account: dict[str, Any]) -> str:
        return f"rcs:{account['client_email']}:{self.token_url}"

    def _token(self, *, fresh: bool = False) -> str:
        account = self._service_account()
        key = self._cache_key(account)
        if not fresh:
            cached = self.token_cache.get(key)
            if cached and cached[1] - TOKEN_SKEW > self._now():
                return cached[0]
        now = self._now()
        assertion = service_account_jwt(account, audience=self.token_url, scope=SCOPE, now=now)
        response = self._request("POST", self.token_url, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        data = json_body(self.name, response)
        token = data.get("access_token")
        if not token:
            raise ProviderError("transient", "token response without access_token", provider=self.name)
        expires_at = now + timedelta(seconds=float(data.get("expires_in") or 3600))
        self.token_cache.set(key, str(token), expires_at)
        return str(token)

    def _authed(self, method: str, url: str, **kwargs: Any) -> Any:
        """One call with the cached token; on 401 a fresh token and one more try."""
        token = self._token()
        try:
            return self._request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except ProviderError as exc:
            if exc.status != 401:
                raise
        self.token_cache.delete(self._cache_key(self._service_account()))
        token = self._token(fresh=True)
        return self._request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    # --- sending ---------------------------------------------------------------------------

    def _agent_id(self) -> str:
        return require(self._credentials, self.name, "agent_id")[0]

    def capabilities(self, phone: str) -> list[str] | None:
        """The phone's RBM features, or None when RBM cannot reach it (404)."""
        params = {"requestId": str(uuid.uuid4()), "agentId": self._agent_id()}
        try:
            response = self._authed("GET", f"{self.base_url}/v1/phones/{phone}/capabilities", params=params)
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        return list(json_body(self.name, response).get("features") or [])

    def send(self, msg: OutboundMessage) -> SendResult:
        if not msg.to_phone:
            raise ProviderError("permanent", "RCS needs a phone number", provider=self.name)
        if self._expired(msg):
            return self.send_fallback(msg, "ttl_expired")
        features = self.capabilities(msg.to_phone)
        if features is None:
            return self.send_fallback(msg, "not_rcs_capable")
        body = {"contentMessage": content_message(msg, features), "ttl": f"{self._ttl(msg)}s"}
        params = {"messageId": msg.message_id, "agentId": self._agent_id()}
        url = f"{self.base_url}/v1/phones/{msg.to_phone}/agentMessages"
        try:
            response = self._authed("POST", url, params=params, json=body, ok=(409,))
        except ProviderError as exc:
            if exc.status == 404:
                return self.send_fallback(msg, "not_rcs_capable")
            raise
        if response.status_code == 409:  # ALREADY_EXISTS: this messageId was sent before
            return SendResult(provider_message_id=msg.message_id, channel="rcs", accepted=True,
                              raw_status=409)
        data = json_body(self.name, response)
        name = str(data.get("name") or "")
        return SendResult(provider_message_id=name.rsplit("/", 1)[-1] or msg.message_id, channel="rcs",
                          accepted=True, raw_status=response.status_code)

    def send_fallback(self, msg: OutboundMessage, reason: str = "ttl_expired") -> SendResult:
        """Sends `msg` as SMS through the tenant's SMS provider (same message id: idempotent)."""
        if self.sms_fallback is None:
            raise ProviderError("not_capable", f"{reason} and no SMS fallback configured", status=404,
                                provider=self.name)
        result = self.sms_fallback.send(msg)
        result.fallback_reason = reason
        return result

    def revoke(self, msg: OutboundMessage) -> bool:
        """Revokes an undelivered RBM message; False when RBM says it was already delivered."""
        try:
            self._authed("DELETE", f"{self.base_url}/v1/phones/{msg.to_phone}/agentMessages/{msg.message_id}",
                         params={"agentId": self._agent_id()})
        except ProviderError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _ttl(self, msg: OutboundMessage) -> int:
        value = msg.attributes.get("rcs_ttl_seconds") or self._credentials.get("ttl_seconds")
        try:
            return max(1, int(value)) if value else DEFAULT_TTL_SECONDS
        except (TypeError, ValueError):
            return DEFAULT_TTL_SECONDS

    def _expired(self, msg: OutboundMessage) -> bool:
        value = msg.attributes.get("expire_at")
        if not value:
            return False
        try:
            expire_at = datetime.fromisoformat(str(value))
        except ValueError:
            return False
        return expire_at.tzinfo is not None and expire_at <= self._now()

    def _probe(self) -> str:
        self._token(fresh=True)
        return f"token ok for agent {self._agent_id()}"

    # --- events ----------------------------------------------------------------------------

    def _events(self, body: bytes) -> list[dict[str, Any]]:
        data = load_json(self.name, body)
        items = data if isinstance(data, list) else [data]
        events = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("message"), dict) and "data" in item["message"]:
                try:  # Pub/Sub push envelope: base64 JSON in message.data
                    item = json.loads(base64.b64decode(item["message"]["data"]))
                except (ValueError, TypeError):
                    raise ProviderError("permanent", "undecodable Pub/Sub data", provider=self.name) from None
            if not isinstance(item, dict) or not ("eventType" in item or "messageId" in item):
                raise ProviderError("permanent", "not an RBM event", provider=self.name)
            events.append(item)
        return events

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        receipts = []
        for event in self._events(body):
            kind = event.get("eventType")
            if kind in ("DELIVERED", "READ"):
                receipts.append({"message_id": event.get("messageId"), "status": "delivered", "reason": None,
                                 "channel": "rcs"})
            elif kind == "TTL_EXPIRATION_REVOKED":
                receipts.append({"message_id": event.get("messageId"), "status": "failed",
                                 "reason": "ttl_expired", "fallback": True, "channel": "rcs"})
        return receipts

    def parse_inbound(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        """User replies (`{"phone", "text"}`), e.g. SAIR/PARE opt-outs."""
        return [{"phone": e.get("senderPhoneNumber"), "text": e["text"]} for e in self._events(body)
                if isinstance(e.get("text"), str)]


def content_message(msg: OutboundMessage, features: list[str]) -> dict[str, Any]:
    """AgentContentMessage holds exactly one of text / contentInfo / richCard."""
    suggestions = msg.attributes.get("rcs_suggestions")
    content: dict[str, Any]
    can_card = "RICHCARD_STANDALONE" in features
    if msg.rich_card and can_card:
        content = {"richCard": msg.rich_card}
    elif msg.media_url and msg.text and can_card:
        content = {"richCard": {"standaloneCard": {"cardOrientation": "VERTICAL", "cardContent": {
            "description": msg.text, "media": {"height": "MEDIUM", "contentInfo": {"fileUrl": msg.media_url}}}}}}
    elif msg.media_url and not msg.text:
        content = {"contentInfo": {"fileUrl": msg.media_url}}
    else:
        text = msg.text or ""
        if msg.media_url and msg.media_url not in text:
            text = f"{text} {msg.media_url}".strip()
        content = {"text": text}
    if isinstance(suggestions, list) and suggestions:
        content["suggestions"] = suggestions
    return content


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account_jwt(account: dict[str, Any], *, audience: str, scope: str, now: datetime,
                        lifetime: int = 3600) -> str:
    """The RS256-signed JWT bearer assertion (RFC 7523) for a Google service account."""
    header = {"alg": "RS256", "typ": "JWT"}
    if account.get("private_key_id"):
        header["kid"] = account["private_key_id"]
    iat = int(now.timestamp())
    claims = {"iss": account["client_email"], "scope": scope, "aud": audience, "iat": iat,
              "exp": iat + lifetime}
    signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + _b64url(json.dumps(claims, separators=(",", ":")).encode()))
    try:
        key = serialization.load_pem_private_key(str(account["private_key"]).encode(), password=None)
    except (ValueError, TypeError):
        raise ProviderError("permanent", "service account private_key is not a PEM key", provider="rcs") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProviderError("permanent", "service account key is not RSA", provider="rcs")
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signature)
