"""Stripe: Checkout Sessions for card payments, refunds, and `Stripe-Signature` verification.

Protocol (reference gateways-payments.md section 3): form-encoded POSTs (``a[b][c]=…``) with
HTTP Basic auth (secret key as user, empty password), an ``Idempotency-Key`` on every POST, JSON
answers; errors as ``{"error": {"type", "code", "message"}}``. Webhooks are signed with
``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`` = HMAC-SHA256(secret, "{t}.{raw body}").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from retaguarda.billing.gateways.base import (
    HttpGateway,
    WebhookSignatureError,
    check_timestamp,
    hmac_sha256_hex,
    parse_signature_header,
)
from retaguarda.shared.compare import same_secret

DEFAULT_TOLERANCE = 300
API_VERSION = "2024-06-20"


def form_encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's nested form encoding: dicts as ``a[b]``, lists as ``a[0]``; None is skipped."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(form_encode(value, name))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(form_encode(item, f"{name}[{i}]"))
                else:
                    pairs.append((f"{name}[{i}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient(HttpGateway):
    """A Stripe API client for what billing needs (sessions, refunds). Raises GatewayError."""

    provider = "stripe"

    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(base_url, timeout=timeout, auth=httpx.BasicAuth(api_key, ""),
                         headers={"Stripe-Version": API_VERSION}, **kwargs)

    def create_checkout_session(self, *, invoice_id: str, amount_cents: int, currency: str = "brl",
                                description: str, success_url: str, cancel_url: str,
                                customer_email: str | None, idempotency_key: str,
                                expires_at: int | None = None, metadata: Mapping[str, str] | None = None,
                                payment_method_types: list[str] | None = None) -> dict[str, Any]:
        """A one-line ``mode=payment`` session for `amount_cents`; returns Stripe's session
        (``id``, ``url``, ``status``, ``payment_status``, ``amount_total``, ``payment_intent``…).

        The invoice id travels as ``client_reference_id`` and ``metadata[invoice_id]`` (also on the
        PaymentIntent) so the webhook can be matched without trusting the browser.
        """
        if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
            raise ValueError("amount_cents must be a positive integer")
        meta = {"invoice_id": str(invoice_id), **dict(metadata or {})}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{
                "price_data": {"currency": currency.lower(), "unit_amount": amount_cents,
                               "product_data": {"name": description[:250] or str(invoice_id)}},
                "quantity": 1,
            }],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(invoice_id),
            "customer_email": customer_email or None,
            "metadata": meta,
            "payment_intent_data": {"metadata": meta, "description": description[:250] or None},
            "expires_at": expires_at,
            "payment_method_types": payment_method_types or ["card"],
        }
        return self._post("/v1/checkout/sessions", params, idempotency_key)

    def retrieve_session(self, session_id: str) -> dict[str, Any]:
        """The session as Stripe has it now (``payment_status`` is the truth, not the redirect)."""
        return self._call("GET", f"/v1/checkout/sessions/{_path_id(session_id)}")

    def create_refund(self, *, payment_intent: str, amount_cents: int | None, idempotency_key: str,
                      reason: str | None = None) -> dict[str, Any]:
        """Refund `amount_cents` (all when None) of a PaymentIntent; returns the Refund (id, status)."""
        if amount_cents is not None and (not isinstance(amount_cents, int) or amount_cents <= 0):
            raise ValueError("amount_cents must be a positive integer or None")
        return self._post("/v1/refunds", {"payment_intent": payment_intent, "amount": amount_cents,
                                          "reason": reason}, idempotency_key)

    def _post(self, path: str, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        if not idempotency_key or len(idempotency_key) > 255:
            raise ValueError("idempotency_key must be 1-255 characters")
        return self._call("POST", path, data=dict(form_encode(params)),
                          headers={"Idempotency-Key": idempotency_key})


def sign_stripe_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send (used by fakes and tests)."""
    return f"t={timestamp},v1={hmac_sha256_hex(secret, str(timestamp).encode() + b'.' + payload)}"


def verify_stripe_signature(payload: bytes, header: str, secret: str, now: datetime,
                            tolerance: int = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """The event (parsed JSON) if `header` signs the raw `payload` within `tolerance` seconds.

    Accepts when any ``v1`` matches (secret rotation), in constant time; rejects a timestamp older
    than ``now - tolerance`` (stale/replayed) or more than `tolerance` ahead. Duplicate deliveries
    inside the window verify: the caller de-duplicates by event id. Raises WebhookSignatureError.
    """
    if not secret:
        raise WebhookSignatureError("no webhook secret configured")
    parts = parse_signature_header(header or "")
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookSignatureError("Stripe-Signature has no valid timestamp") from None
    signatures = parts.get("v1") or []
    if not signatures:
        raise WebhookSignatureError("Stripe-Signature has no v1 signature")
    expected = hmac_sha256_hex(secret, str(timestamp).encode() + b"." + payload)
    if not any(same_secret(expected, sig) for sig in signatures):
        raise WebhookSignatureError("no Stripe-Signature v1 matches the payload")
    check_timestamp(timestamp, now, tolerance)
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookSignatureError("signed payload is not JSON") from None
    if not isinstance(event, dict) or "type" not in event or "id" not in event:
        raise WebhookSignatureError("signed payload is not a Stripe event")
    return event


def _path_id(ident: str) -> str:
    if not ident or not all(ch.isalnum() or ch in "_-" for ch in ident):
        raise ValueError("malformed Stripe id")
    return ident
