"""The campaign-provider port: what the pipeline hands a provider and what it gets back.

Vendor JSON never crosses this port. Each vendor module (`cda`, `gosac`, `noah`, `sms`, `rcs`,
`salesforce`) keeps its whole wire mapping in one place, so the vendor's real contract replaces
it there and nowhere else. Errors are classified once, here, so the pipeline can decide between
"retry later" (`transient`, honouring `retry_after`), "fail the message now" (`permanent`) and
"this recipient cannot get this channel" (`not_capable`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import httpx

from retaguarda.integrations import errors as kit
from retaguarda.integrations.http import make_client, parse_retry_after

Channel = Literal["rcs", "sms", "whatsapp", "email"]
ErrorKind = Literal["transient", "permanent", "not_capable"]
ReceiptStatus = Literal["delivered", "failed"]

PROVIDER_NAMES: tuple[str, ...] = ("cda", "gosac", "noah", "rcs", "salesforce")
"""Providers a campaign can name; `sms` is only the RCS fallback."""


@dataclass(frozen=True)
class OutboundMessage:
    """One recipient's message, as the pipeline asks a provider to deliver it."""

    message_id: str
    """Our CampaignMessage id; sent as the provider's idempotency / message key."""
    campaign_id: str
    external_campaign_id: str
    tenant_id: str
    to_phone: str | None = None
    """E.164 (`+5511987654321`), already normalised by `campaigns.phones`."""
    to_email: str | None = None
    name: str | None = None
    text: str = ""
    media_url: str | None = None
    rich_card: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    """Personalisation attributes (`{"first_name": "Ana"}`); `rcs_ttl_seconds` sets the RBM TTL."""


@dataclass
class SendResult:
    """The provider took the message (`accepted`) or said why not (raised as ProviderError)."""

    provider_message_id: str | None
    channel: Channel
    accepted: bool
    raw_status: int
    """HTTP status of the call that decided (after a fallback, the SMS provider's)."""
    fallback_reason: str | None = None
    """Why RCS fell back to SMS (`not_rcs_capable`, `ttl_expired`); None otherwise."""


class ProviderError(kit.ProviderError):
    """A provider call failed.

    `kind`: `transient` (network error, timeout, 5xx, 429, malformed answer: retry, after
    `retry_after` seconds when the provider said so), `permanent` (4xx validation, bad
    credentials: fail the message now) or `not_capable` (the recipient cannot receive this
    channel, e.g. RBM 404 with no SMS fallback configured). `ProviderError("transient", …)`
    builds the matching subclass, which is also an `integrations.errors.TransientProviderError` /
    `PermanentProviderError` (a permanent error with HTTP 401/403 is also an `AuthError`, with
    404 a `NotFoundError`), so Dramatiq `throws=(PermanentError,)` works unchanged.
    """

    kind: ErrorKind = "transient"

    def __new__(cls, kind: ErrorKind | None = None, *args: Any, **kwargs: Any) -> "ProviderError":
        if cls is ProviderError:
            cls = _ERROR_CLASSES.get(kind or "transient", TransientProviderError)
        if cls is PermanentProviderError and kwargs.get("status") is not None:
            cls = _PERMANENT_BY_STATUS.get(kit.classify_status(kwargs["status"]), PermanentProviderError)
        return super().__new__(cls)

    def __init__(self, kind: ErrorKind | None = None, detail: str = "", *, status: int | None = None,
                 retry_after: float | None = None, provider: str = "") -> None:
        if kind is not None and kind != self.kind:
            raise ValueError(f"{type(self).__name__} cannot have kind {kind!r}")
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.provider = provider
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"{self.provider or 'provider'} {self.kind}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.retry_after is not None:
            parts.append(f"retry after {self.retry_after:g}s")
        text = ", ".join(parts)
        return f"{text}: {self.detail}" if self.detail else text

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes
        return (_rebuild_error, (self.kind, self.detail, self.status, self.retry_after, self.provider))


class TransientProviderError(ProviderError, kit.TransientProviderError):
    kind: ErrorKind = "transient"


class PermanentProviderError(ProviderError, kit.PermanentProviderError):
    kind: ErrorKind = "permanent"


class ProviderAuthError(PermanentProviderError, kit.AuthError):
    """Permanent, HTTP 401/403: the credentials are missing or refused."""


class ProviderNotFoundError(PermanentProviderError, kit.NotFoundError):
    """Permanent, HTTP 404."""


class NotCapableError(ProviderError, kit.PermanentProviderError):
    kind: ErrorKind = "not_capable"


_PERMANENT_BY_STATUS: dict[str, type[PermanentProviderError]] = {
    "auth": ProviderAuthError,
    "not_found": ProviderNotFoundError,
}


_ERROR_CLASSES: dict[str, type[ProviderError]] = {
    "transient": TransientProviderError,
    "permanent": PermanentProviderError,
    "not_capable": NotCapableError,
}


def _rebuild_error(kind: ErrorKind, detail: str, status: int | None, retry_after: float | None,
                   provider: str) -> ProviderError:
    return ProviderError(kind, detail, status=status, retry_after=retry_after, provider=provider)


@runtime_checkable
class CampaignProvider(Protocol):
    """One delivery provider. Single-step providers implement `send`; two-step providers
    (`two_step = True`: GOSAC, Salesforce) implement `prepare` then, `step_delay_seconds`
    later, `start`. Every call is idempotent by our ids, so a re-run after a crash is safe."""

    name: str
    two_step: bool
    step_delay_seconds: float

    def send(self, msg: OutboundMessage) -> SendResult:
        """Delivers one message, keyed by `msg.message_id`. Raises ProviderError."""
        ...

    def prepare(self, campaign: dict[str, Any], messages: list[OutboundMessage]) -> dict[str, Any]:
        """Two-step step 1 (GOSAC create + contacts; Salesforce contacts). May be called again
        with the same or further messages: idempotent by campaign id / message id. Returns the
        provider references `start` needs (JSON-able). `campaign` needs `id`, `external_id`,
        `name` (and may carry `text`, `media_url`, `send_at`)."""
        ...

    def start(self, campaign: dict[str, Any], refs: dict[str, Any],
              messages: list[OutboundMessage] | None = None) -> dict[str, Any]:
        """Two-step step 2 (GOSAC PUT start; Salesforce send trigger). Idempotent. GOSAC ignores
        `messages`; Salesforce needs them (call per batch). Returns provider references plus
        `accepted` (message ids) and `rejected` ({message id: reason}) when the provider reports
        per message."""
        ...

    def test_connection(self) -> dict[str, Any]:
        """Cheap authenticated call: `{"ok": bool, "detail": str}`. Never raises."""
        ...

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Delivery receipts posted by the provider → `[{"message_id" | "provider_message_id",
        "status": "delivered" | "failed", "reason"}]`. Raises PermanentProviderError on a body
        that is not a receipt. RCS TTL expiry comes back as failed + `"fallback": True`."""
        ...


# --- token cache ---------------------------------------------------------------------------

class TokenCache(Protocol):
    """Where OAuth2 access tokens live between calls (per process by default)."""

    def get(self, key: str) -> tuple[str, datetime] | None: ...

    def set(self, key: str, token: str, expires_at: datetime) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryTokenCache:
    """Thread-safe in-process token cache (one per worker process is fine: tokens are cheap)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, datetime] | None:
        with self._lock:
            return self._tokens.get(key)

    def set(self, key: str, token: str, expires_at: datetime) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)

    def delete(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)


# --- shared HTTP helpers for the vendor modules ---------------------------------------------

DEFAULT_TIMEOUT = 10.0


def new_http_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """One pooled client per provider instance; keep-alive matters at 100k messages."""
    return make_client(timeout=timeout, connect_timeout=timeout,
                       limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))


def classify_response(provider: str, response: httpx.Response, now: datetime | None = None) -> ProviderError:
    """The one mapping from a non-2xx HTTP answer to an error kind."""
    status = response.status_code
    detail = _error_detail(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
    if status == 429 or status >= 500 or status == 408:
        if retry_after is None and status == 429:
            retry_after = _body_retry_after(response)
        return ProviderError("transient", detail, status=status, retry_after=retry_after, provider=provider)
    return ProviderError("permanent", detail, status=status, provider=provider)


def transport_error(provider: str, exc: Exception) -> ProviderError:
    """Network errors and timeouts: the provider may or may not have the message; retrying
    with the same idempotency key is what makes that safe."""
    return ProviderError("transient", f"{type(exc).__name__}: {exc}"[:300], provider=provider)


def json_body(provider: str, response: httpx.Response) -> dict[str, Any]:
    """A 2xx body that is not the JSON object we expect is treated as transient (a proxy page,
    a truncated answer): the retry is harmless because every call carries an idempotency key."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise ProviderError("transient", "malformed response body", status=response.status_code,
                            provider=provider) from None
    if not isinstance(data, dict):
        raise ProviderError("transient", "unexpected response body", status=response.status_code,
                            provider=provider)
    return data


def _error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(data, dict):
        for key in ("message", "detail", "error_description", "error"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("status") or json.dumps(value)[:200]
            if value:
                return str(value)[:300]
    return json.dumps(data)[:300]


def _body_retry_after(response: httpx.Response) -> float | None:
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("retryAfter") if isinstance(data, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def require(credentials: dict[str, Any], provider: str, *names: str) -> list[str]:
    """Missing credentials are a permanent error naming the field (never its value)."""
    values = []
    for name in names:
        value = credentials.get(name)
        if value in (None, ""):
            raise ProviderError("permanent", f"missing credential {name!r}", provider=provider)
        values.append(str(value) if not isinstance(value, (dict, list)) else value)
    return values


class HttpProvider:
    """Shared plumbing for the vendor modules: one pooled client, one error mapping.

    Subclasses set `name` and implement what their protocol has; the defaults say clearly that a
    single-step provider has no `prepare`/`start` and a two-step one has no `send`."""

    name = "provider"
    two_step = False
    step_delay_seconds = 0.0

    def __init__(self, *, base_url: str, credentials: dict[str, Any], clock: Any,
                 http: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = dict(credentials)
        self.clock = clock
        self.http = http or new_http_client(timeout)

    def __repr__(self) -> str:  # never shows credentials
        return f"<{type(self).__name__} {self.name} {self.base_url}>"

    def close(self) -> None:
        self.http.close()

    def _now(self) -> datetime:
        return self.clock.now()

    def _request(self, method: str, url: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """Sends one request; returns 2xx (and statuses in `ok`) responses, raises ProviderError
        for the rest and for network failures."""
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc) from None
        if response.is_success or response.status_code in ok:
            return response
        raise classify_response(self.name, response, self._now())

    def send(self, msg: OutboundMessage) -> SendResult:
        raise ProviderError("permanent", "two-step provider: use prepare() then start()", provider=self.name)

    def prepare(self, campaign: dict[str, Any], messages: list[OutboundMessage]) -> dict[str, Any]:
        raise ProviderError("permanent", "single-step provider: use send()", provider=self.name)

    def start(self, campaign: dict[str, Any], refs: dict[str, Any],
              messages: list[OutboundMessage] | None = None) -> dict[str, Any]:
        raise ProviderError("permanent", "single-step provider: use send()", provider=self.name)

    def test_connection(self) -> dict[str, Any]:
        try:
            detail = self._probe()
        except ProviderError as exc:
            return {"ok": False, "detail": str(exc), "status": exc.status}
        return {"ok": True, "detail": detail}

    def _probe(self) -> str:
        raise NotImplementedError

    def parse_receipt(self, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        return []


def load_json(provider: str, body: bytes) -> Any:
    """Receipt bodies: bad JSON is the sender's problem (the endpoint answers 400)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProviderError("permanent", "receipt body is not JSON", provider=provider) from None


_SHARED_TOKEN_CACHE = MemoryTokenCache()


def shared_token_cache() -> MemoryTokenCache:
    """The process-wide default cache, so providers built per call still reuse tokens."""
    return _SHARED_TOKEN_CACHE
