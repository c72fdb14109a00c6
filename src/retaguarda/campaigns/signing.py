"""HMAC-SHA256 signatures of the status callbacks we POST to the WordPress site.

Header `X-Retaguarda-Signature: t=<unix seconds>,v1=<hex hmac>` where the HMAC key is the
tenant's webhook secret and the signed bytes are `b"<t>." + body`. The receiver recomputes it,
compares in constant time and rejects timestamps older (or newer) than the tolerance, so a
captured callback cannot be replayed later. Several `v1=` entries may appear while a secret is
being rotated; any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from retaguarda.shared.compare import same_secret

SIGNATURE_HEADER = "X-Retaguarda-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The signature is missing, malformed, stale or does not match."""


def compute(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign(body: bytes, secret: str | Iterable[str], *, now: datetime) -> str:
    """The header value for `body` signed at `now` (one `v1=` per secret when rotating)."""
    if not secret:
        raise ValueError("a webhook secret is required to sign")
    secrets = [secret] if isinstance(secret, str) else [s for s in secret if s]
    timestamp = int(now.timestamp())
    return ",".join([f"t={timestamp}"] + [f"v1={compute(body, s, timestamp)}" for s in secrets])


def signed_headers(body: bytes, secret: str, *, now: datetime) -> dict[str, str]:
    """Headers for a callback POST."""
    return {SIGNATURE_HEADER: sign(body, secret, now=now), "Content-Type": "application/json"}


def verify(body: bytes, header: str | None, secret: str | Iterable[str], *, now: datetime,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> int:
    """Checks `header` against `body`; returns the signed timestamp or raises SignatureError."""
    if not header:
        raise SignatureError("missing signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("malformed timestamp") from None
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature")
    if abs(now.timestamp() - timestamp) > tolerance:
        raise SignatureError("stale signature")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    for s in secrets:
        if not s:
            continue
        expected = compute(body, s, timestamp)
        if any(same_secret(expected, c) for c in candidates):
            return timestamp
    raise SignatureError("signature does not match")
