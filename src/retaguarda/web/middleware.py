"""ASGI middleware: request/correlation ids, principal resolution, security headers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}

# A document our own pages show in a frame (the DANFSe preview): same policy, but framable by us.
FRAMABLE_BY_SELF = {
    "x-frame-options": "SAMEORIGIN",
    "content-security-policy": SECURITY_HEADERS["content-security-policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"),
}


# The same headers, encoded once: they are appended to every response that lacks them.
_SECURITY_HEADER_PAIRS = tuple((k.encode("latin-1"), v.encode("latin-1"))
                               for k, v in SECURITY_HEADERS.items())
_ID_HEADERS = frozenset({b"x-request-id", b"x-correlation-id"})


def _with_response_headers(message: Message, request_id: str, correlation_id: str) -> None:
    """Sets the id headers (replacing any) and adds each security header the response lacks."""
    raw: Iterable[tuple[bytes, bytes]] = message.get("headers", ())  # type: ignore[assignment]
    headers = [(k, v) for k, v in raw if k.lower() not in _ID_HEADERS]
    present = {k.lower() for k, _ in headers}
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    headers.append((b"x-correlation-id", correlation_id.encode("latin-1")))
    headers.extend(pair for pair in _SECURITY_HEADER_PAIRS if pair[0] not in present)
    message["headers"] = headers  # type: ignore[typeddict-unknown-key]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


MAX_PAGE = 100_000
"""Highest page number any list accepts: the row offset must stay far inside 64 bits."""
_PAGE_PARAMS = {"page": MAX_PAGE, "per_page": 1000}
"""Outer bounds for every route (a route may set a lower `per_page` maximum of its own)."""


def _page_error(scope: Scope) -> tuple[str, str] | None:
    """(field, message) when a page parameter is a number out of range, whatever the route.

    Every paginated list computes `(page - 1) * per_page` as an SQL offset; a page past 64 bits
    (`?page=99999999999999999999`) overflowed in the database driver as a 500.
    """
    raw = scope.get("query_string") or b""
    if b"page" not in raw:
        return None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in _PAGE_PARAMS:
            text = value.strip()
            digits = text[1:] if text[:1] in "+-" else text
            if not digits.isdigit():
                continue  # not a number: the route's own validation names it
            if len(digits) > 12 or not 1 <= int(text) <= _PAGE_PARAMS[key]:
                return key, f"must be a whole number from 1 to {_PAGE_PARAMS[key]}"
    return None


async def _send_problem(send: Send, field: str, message: str) -> None:
    body = json.dumps({"type": "about:blank", "title": "Bad request", "status": 400,
                       "detail": f"{field}: {message}", "errors": [{"field": field, "message": message}],
                       "field": field}).encode()
    start: Any = {"type": "http.response.start", "status": 400,
                  "headers": [(b"content-type", b"application/problem+json"),
                              (b"content-length", str(len(body)).encode())]}
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = os.urandom(16).hex()  # 32 hex digits, like uuid4().hex
        correlation_id = (_header(scope, b"x-correlation-id") or request_id)[:64]
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        scope["correlation_id"] = correlation_id  # type: ignore[typeddict-unknown-key]
        container = scope["app"].state.container
        principal = None
        for authenticate in container.authenticators:
            principal = await authenticate(container, scope)
            if principal is not None:
                break
        scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, correlation_id=correlation_id,
            tenant_id=principal.tenant_id if principal else None,
            user_id=principal.actor if principal else None,
        )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                _with_response_headers(message, request_id, correlation_id)
            await send(message)

        page_error = _page_error(scope)
        if page_error is not None:
            await _send_problem(send_wrapper, *page_error)
            return
        await app(scope, receive, send_wrapper)

    return middleware
