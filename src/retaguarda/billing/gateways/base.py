"""What every payment adapter shares: errors, fault classification, retries, HMAC helpers.

Classification (the one rule every client follows): timeouts, connection errors, HTTP 5xx, 408
and 429 are *transient* (with `retry_after` from the Retry-After header when given); every other
4xx is *permanent*. A 2xx whose body is not a JSON object is transient too: the request is
repeated with the same idempotency key, so the provider replays its stored answer. Transient
errors are retried a few times in the client with exponential backoff, reusing the same
idempotency key, then raised as `TransientGatewayError` (a `TransientError`, so jobs retry and
finally dead-letter them); permanent ones raise `PermanentGatewayError` at once (a
`PermanentError`: never retried).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import structlog

from retaguarda.integrations.errors import (
    AuthError,
    NotFoundError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    classify_status,
)
from retaguarda.integrations.http import make_client, parse_retry_after

log = structlog.get_logger("retaguarda.billing.gateways")

MAX_WAIT = 10.0  # a Retry-After longer than this is not slept through in-process: raise, the job waits


class GatewayError(ProviderError):
    """A provider call failed. `GatewayError(msg, transient=…)` builds the matching subclass.

    Attributes: `transient` (retry later may succeed), `retry_after` (seconds, from the
    provider, or None), `status` (HTTP status or None), `code` (provider error code or None).
    """

    def __new__(cls, message: str = "", *, transient: bool = False, **kwargs: Any) -> "GatewayError":
        if cls is GatewayError:
            cls = TransientGatewayError if transient else _permanent_class(kwargs.get("status"))
        return super().__new__(cls)

    def __init__(self, message: str = "", *, transient: bool = False, retry_after: float | None = None,
                 status: int | None = None, code: str | None = None, provider: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.provider = provider


class TransientGatewayError(GatewayError, TransientProviderError):
    """Try again later (timeout, connection refused, 5xx, 429)."""

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        kwargs["transient"] = True
        super().__init__(message, **kwargs)


class PermanentGatewayError(GatewayError, PermanentProviderError):
    """The provider refuses this call as it stands (4xx other than 429, malformed answer)."""

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        kwargs["transient"] = False
        super().__init__(message, **kwargs)


class GatewayAuthError(PermanentGatewayError, AuthError):
    """The provider refused our credentials (HTTP 401/403)."""


class GatewayNotFoundError(PermanentGatewayError, NotFoundError):
    """The provider does not know the resource (HTTP 404)."""


def _permanent_class(status: int | None) -> type[PermanentGatewayError]:
    kind = classify_status(status) if status is not None else "permanent"
    if kind == "auth":
        return GatewayAuthError
    if kind == "not_found":
        return GatewayNotFoundError
    return PermanentGatewayError


class WebhookSignatureError(Exception):
    """A webhook delivery is forged, stale, malformed or unsigned: reject it and change nothing."""


def hmac_sha256_hex(secret: str | bytes, message: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    msg = message.encode() if isinstance(message, str) else message
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def parse_signature_header(header: str) -> dict[str, list[str]]:
    """``t=1,v1=a,v1=b`` → ``{"t": ["1"], "v1": ["a", "b"]}`` (keys lowercased, blanks dropped)."""
    out: dict[str, list[str]] = {}
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() and value.strip():
            out.setdefault(key.strip().lower(), []).append(value.strip())
    return out


def check_timestamp(ts: int | float, now: datetime, tolerance: int, *,
                    allow_future: int | None = None) -> None:
    """WebhookSignatureError when `ts` (epoch seconds) is older than `now - tolerance` or too far ahead."""
    current = now.timestamp()
    if ts < current - tolerance:
        raise WebhookSignatureError("timestamp outside the tolerance (stale or replayed delivery)")
    if ts > current + (tolerance if allow_future is None else allow_future):
        raise WebhookSignatureError("timestamp is in the future")


class HttpGateway:
    """httpx plumbing with the classification and bounded retries described in the module doc.

    `transport` lets tests hand in an httpx transport; `sleep` lets them skip real waiting.
    `max_wait` bounds one in-process wait: a longer Retry-After raises the transient error at once
    (with `retry_after` set) so a job, not a web request, does the waiting.
    """

    provider = "gateway"

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_retries: int = 2, backoff: float = 0.5,
                 max_wait: float = MAX_WAIT, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, headers: Mapping[str, str] | None = None,
                 auth: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.backoff = backoff
        self._sleep = sleep
        self._http = make_client(base_url=self.base_url, timeout=timeout, connect_timeout=timeout,
                                 transport=transport, headers=headers, auth=auth)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "HttpGateway":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, expect_json: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Send with retries on transient faults; returns the 2xx JSON object or raises GatewayError.

        With `expect_json=False` any 2xx counts as success and the result is ``{}``.
        """
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                error: GatewayError = TransientGatewayError(f"{self.provider}: timeout on {method} {path}",
                                                            provider=self.provider)
                cause: BaseException | None = exc
            except httpx.TransportError as exc:
                error = TransientGatewayError(f"{self.provider}: connection failed on {method} {path}: "
                                              f"{type(exc).__name__}", provider=self.provider)
                cause = exc
            else:
                if response.is_success and not expect_json:
                    return {}
                if response.is_success:
                    try:
                        return self._json(response)
                    except TransientGatewayError as exc:
                        error, cause = exc, None
                else:
                    error, cause = self._error_for(response), None
                    if not error.transient:
                        raise error
            too_long = error.retry_after is not None and error.retry_after > self.max_wait
            if attempt >= self.max_retries or too_long:
                log.warning("gateway_gave_up", provider=self.provider, path=path, attempts=attempt + 1,
                            status=error.status)
                raise error from cause
            delay = self.backoff * (2 ** attempt)
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            attempt += 1
            log.info("gateway_retry", provider=self.provider, path=path, attempt=attempt, delay=delay,
                     status=error.status)
            self._sleep(delay)

    def _error_for(self, response: httpx.Response) -> GatewayError:
        status = response.status_code
        code, message = self._error_details(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        transient = classify_status(status) == "transient"
        text = f"{self.provider}: HTTP {status}" + (f" {code}" if code else "")
        text += f": {message}" if message else ""
        return GatewayError(text, transient=transient, retry_after=retry_after, status=status, code=code,
                            provider=self.provider)

    def _error_details(self, response: httpx.Response) -> tuple[str | None, str | None]:
        try:
            body = response.json()
        except ValueError:
            return None, response.text[:200] or None
        if isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            top = body.get("error") if isinstance(body.get("error"), str) else None
            code = inner.get("code") or inner.get("type") or top
            message = str(inner["message"])[:300] if inner.get("message") else None
            return (str(code) if code else None), message
        return None, None

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientGatewayError(f"{self.provider}: answer is not JSON", status=response.status_code,
                                        provider=self.provider) from exc
        if not isinstance(body, dict):
            raise TransientGatewayError(f"{self.provider}: answer is not a JSON object",
                                        status=response.status_code, provider=self.provider)
        return body
