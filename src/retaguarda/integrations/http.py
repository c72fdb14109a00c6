"""The integration kit's HTTP half: one client factory, one Retry-After parser, call records.

Every outbound adapter builds its `httpx.Client` with `make_client` (timeouts always set, mTLS
from an `ssl.SSLContext`, pooled connections, no redirects unless asked) and reads Retry-After
with `parse_retry_after`. Calls are recorded as `CallRecord`s whose URL, headers and bodies have
passed through `redact`, so a record is safe to store in an event or show in the UI: no
password, token, API key, certificate or Authorization header survives.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

MAX_LOGGED = 4000
"""Longest body text kept in a call record (the rest is cut with an ellipsis)."""
REDACTED = "***"

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_SECRET_KEYS = re.compile(
    r"(?i)(token|password|passwd|senha|secret|api[-_]?key|authorization|certificate|pfx|cookie|signature)")
_BLOB_KEYS = re.compile(r"(?i)(xmlgzipb64|base64|pdf)$")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:access_token|token|api_key|apikey|key|secret|password)=)[^&#]+")
_USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/@\s]+@")


# --- Retry-After ---------------------------------------------------------------------------

def parse_retry_after(value: str | None, *, now: datetime | None = None,
                      default: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3).

    Accepts delta-seconds ("120", also "1.5") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"),
    measured from `now` (aware; the current UTC time when None). A date in the past gives 0.0.
    Absent, negative or unreadable values give `default`.
    """
    if value is None:
        return default
    text = value.strip()
    if not text:
        return default
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return default
    if when is None:
        return default
    if when.tzinfo is None:  # "-0000" dates parse naive: they are UTC
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def retry_after_from(headers: Mapping[str, str], *, now: datetime | None = None,
                     default: float | None = None) -> float | None:
    """Retry-After of a response; falls back to `RateLimit-Reset` (delta-seconds) when absent."""
    value = headers.get("retry-after")
    if value is not None and value.strip():
        return parse_retry_after(value, now=now, default=default)
    reset = headers.get("ratelimit-reset") or headers.get("rate-limit-reset")
    if reset is not None and _DELTA_SECONDS.fullmatch(reset.strip()):
        return float(reset.strip())
    return default


# --- redaction -----------------------------------------------------------------------------

def is_secret_key(name: object) -> bool:
    return bool(_SECRET_KEYS.search(str(name)))


def redact(value: Any) -> Any:
    """A copy of `value` with secrets masked and big base64 blobs replaced by a size note.

    Dict keys that name a secret (token, password, senha, api_key, authorization, certificate,
    pfx, cookie, signature, secret) have their value replaced by "***", recursively."""
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if is_secret_key(key):
                out[key] = REDACTED
            elif (isinstance(item, str) and _BLOB_KEYS.search(str(key)) and len(item) > 64
                  and not item.startswith("<")):
                out[key] = f"<{len(item)} base64 chars>"
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_url(url: str) -> str:
    """Masks credentials in the query string (`?token=…`) and in the user-info part."""
    return _USERINFO.sub(r"\1***@", _SECRET_QUERY.sub(r"\1" + REDACTED, url))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if is_secret_key(k) else v) for k, v in headers.items()}


def _cut(text: str) -> str:
    return text[:MAX_LOGGED] + ("…" if len(text) > MAX_LOGGED else "")


def render_body(body: Any) -> str | None:
    """A request/response body as loggable text: JSON redacted, bytes as a size note."""
    if body is None:
        return None
    if isinstance(body, bytes | bytearray):
        return f"<{len(body)} bytes>"
    if isinstance(body, str):
        return _cut(body)
    return _cut(json.dumps(redact(body), ensure_ascii=False, default=str))


def render_content(content: bytes, content_type: str) -> str:
    """A body read off the wire: JSON redacted, binaries as a size note, text cut."""
    if not content:
        return ""
    if "pdf" in content_type or "octet-stream" in content_type or "zip" in content_type:
        return f"<{len(content)} bytes {content_type}>"
    try:
        return render_body(json.loads(content)) or ""
    except (ValueError, UnicodeDecodeError):
        return _cut(content.decode("utf-8", errors="replace"))


# --- call records --------------------------------------------------------------------------

@dataclass
class CallRecord:
    """One HTTP exchange with a provider, already redacted (safe to store and show)."""

    operation: str
    method: str
    url: str
    request: str | None
    status: int | None
    response: str | None
    duration_ms: int
    started_at: datetime
    error: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "method": self.method, "url": self.url,
            "request": self.request, "status": self.status, "response": self.response,
            "duration_ms": self.duration_ms, "started_at": self.started_at.isoformat(),
            "error": self.error,
        }


class CallRecorder:
    """Records every exchange of a client made by `make_client(recorder=…)` as a `CallRecord`.

    `sink` receives each record (e.g. `list.append`); `clock` gives aware timestamps."""

    def __init__(self, sink: Callable[[CallRecord], None], *, clock: Callable[[], datetime] | None = None,
                 operation: str = "") -> None:
        self.sink = sink
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.operation = operation

    def on_request(self, request: httpx.Request) -> None:
        request.extensions["retaguarda.started"] = (self.clock(), time.perf_counter())

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        started_at, t0 = request.extensions.get("retaguarda.started", (self.clock(), time.perf_counter()))
        response.read()
        self.sink(CallRecord(
            operation=self.operation or request.url.path, method=request.method,
            url=redact_url(str(request.url)), request=_request_text(request),
            status=response.status_code,
            response=render_content(response.content, response.headers.get("content-type", "")),
            duration_ms=int((time.perf_counter() - t0) * 1000), started_at=started_at,
            request_headers=redact_headers(dict(request.headers))))


def _request_text(request: httpx.Request) -> str | None:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return "<streamed body>"
    if not content:
        return None
    ctype = request.headers.get("content-type", "")
    if "x-www-form-urlencoded" in ctype:
        from urllib.parse import parse_qsl

        return render_body(dict(parse_qsl(content.decode("utf-8", errors="replace"))))
    return render_content(content, ctype) or None


# --- the client factory --------------------------------------------------------------------

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0


def make_client(*, base_url: str = "", timeout: float = DEFAULT_TIMEOUT,
                connect_timeout: float | None = None, ssl_context: ssl.SSLContext | None = None,
                headers: Mapping[str, str] | None = None, auth: Any = None,
                transport: httpx.BaseTransport | None = None, limits: httpx.Limits | None = None,
                follow_redirects: bool = False, recorder: CallRecorder | None = None) -> httpx.Client:
    """The one way adapters build an `httpx.Client`.

    - `timeout` (total per phase) and `connect_timeout` are always set: no call waits forever;
    - `ssl_context` carries mTLS (the tenant's A1 certificate loaded with `load_cert_chain`) and
      the trust store; None keeps httpx's default verification;
    - `transport` lets tests hand in an in-process transport;
    - `recorder` records every exchange, redacted (see `CallRecorder`).
    """
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
    if recorder is not None:
        hooks["request"].append(recorder.on_request)
        hooks["response"].append(recorder.on_response)
    connect = min(timeout, DEFAULT_CONNECT_TIMEOUT) if connect_timeout is None else connect_timeout
    kwargs: dict[str, Any] = {
        "timeout": httpx.Timeout(timeout, connect=connect),
        "headers": dict(headers or {}),
        "follow_redirects": follow_redirects,
        "event_hooks": hooks,
    }
    if limits is not None:
        kwargs["limits"] = limits
    if base_url:
        kwargs["base_url"] = base_url
    if auth is not None:
        kwargs["auth"] = auth
    if transport is not None:
        kwargs["transport"] = transport
    if ssl_context is not None:
        kwargs["verify"] = ssl_context
    return httpx.Client(**kwargs)
