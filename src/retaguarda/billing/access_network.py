"""Port to a customer's access network (RADIUS/NAS): tell it to block or unblock a customer.

The shipped adapter is a signed webhook, so an ISP can plug in whatever drives its RADIUS/NAS:

    POST <url>
    Content-Type: application/json
    X-Retaguarda-Event: block | unblock
    X-Retaguarda-Event-Id: <event_id>          (same on every retry: receivers de-duplicate on it)
    Idempotency-Key: <event_id>
    X-Retaguarda-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

    {"action": "block", "tenant_id": "...", "customer_id": "...", "reason": "...",
     "event_id": "...", "sent_at": "2026-11-23T12:00:00+00:00"}

Any 2xx is success. Timeouts, connection errors, 5xx and 429 are retried with exponential
backoff (honouring Retry-After) and finally raised as `TransientGatewayError`, which the billing
job retries and then parks as a visible failure; other 4xx raise `PermanentGatewayError`.
Receivers verify with `verify_access_signature` (5-minute tolerance).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

import httpx

from retaguarda.billing.gateways.base import (
    HttpGateway,
    WebhookSignatureError,
    check_timestamp,
    hmac_sha256_hex,
    parse_signature_header,
)
from retaguarda.shared.compare import same_secret

SIGNATURE_HEADER = "X-Retaguarda-Signature"
EVENT_HEADER = "X-Retaguarda-Event"
EVENT_ID_HEADER = "X-Retaguarda-Event-Id"
DEFAULT_TOLERANCE = 300


class AccessNetwork(Protocol):
    """What billing needs from the access network. Both calls are idempotent per `event_id`."""

    def block(self, *, tenant_id: str, customer_id: str, reason: str, event_id: str) -> None: ...

    def unblock(self, *, tenant_id: str, customer_id: str, event_id: str) -> None: ...


class NullAccessNetwork:
    """For tenants without an access-network integration: records nothing, sends nothing."""

    def block(self, *, tenant_id: str, customer_id: str, reason: str, event_id: str) -> None:
        return None

    def unblock(self, *, tenant_id: str, customer_id: str, event_id: str) -> None:
        return None


class AccessNetworkWebhook(HttpGateway):
    """Signed webhook adapter (see the module doc for the wire format)."""

    provider = "access_network"

    def __init__(self, url: str, secret: str, timeout: float = 10.0, *, max_retries: int = 3,
                 backoff: float = 0.5, clock: Callable[[], datetime] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not secret:
            raise ValueError("access network webhook needs a secret")
        super().__init__(url, timeout=timeout, max_retries=max_retries, backoff=backoff, transport=transport,
                         sleep=sleep)
        self.url = url
        self._secret = secret
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def __repr__(self) -> str:  # never show the secret
        return f"AccessNetworkWebhook(url={self.url!r})"

    def block(self, *, tenant_id: str, customer_id: str, reason: str, event_id: str) -> None:
        """Ask the network to cut `customer_id` off; raises GatewayError when it cannot be told."""
        self._send("block", {"tenant_id": tenant_id, "customer_id": customer_id, "reason": reason,
                             "event_id": event_id})

    def unblock(self, *, tenant_id: str, customer_id: str, event_id: str) -> None:
        """Ask the network to restore `customer_id`; raises GatewayError when it cannot be told."""
        self._send("unblock", {"tenant_id": tenant_id, "customer_id": customer_id, "event_id": event_id})

    def _send(self, action: str, fields: dict[str, Any]) -> None:
        if not fields.get("event_id"):
            raise ValueError("event_id is required (receivers de-duplicate on it)")
        now = self._clock()
        message = {"action": action, **fields, "sent_at": now.isoformat()}
        body = json.dumps(message, separators=(",", ":")).encode()
        # The signature is computed once: a retry is the same delivery, byte for byte.
        self._call("POST", self.url, content=body, expect_json=False, headers={
            "Content-Type": "application/json",
            EVENT_HEADER: action,
            EVENT_ID_HEADER: fields["event_id"],
            "Idempotency-Key": fields["event_id"],
            SIGNATURE_HEADER: sign_access_payload(body, self._secret, int(now.timestamp())),
        })


def sign_access_payload(body: bytes, secret: str, timestamp: int) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    return f"t={timestamp},v1={hmac_sha256_hex(secret, str(timestamp).encode() + b'.' + body)}"


def verify_access_signature(body: bytes, header: str, secret: str, now: datetime,
                            tolerance: int = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """The parsed body if `header` signs it with `secret` within `tolerance` seconds of `now`.

    Raises WebhookSignatureError for a missing/forged signature, a stale or future timestamp, or
    a body that is not a block/unblock message. Receivers should also drop repeated event ids.
    """
    parts = parse_signature_header(header or "")
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookSignatureError("signature has no valid timestamp") from None
    expected = hmac_sha256_hex(secret, str(timestamp).encode() + b"." + body)
    if not any(same_secret(expected, sig) for sig in parts.get("v1") or []):
        raise WebhookSignatureError("signature does not match")
    check_timestamp(timestamp, now, tolerance)
    try:
        message = json.loads(body)
    except ValueError:
        raise WebhookSignatureError("signed body is not JSON") from None
    if not isinstance(message, dict) or message.get("action") not in ("block", "unblock"):
        raise WebhookSignatureError("signed body is not a block/unblock message")
    return message
