"""ASGI middleware: request/correlation ids, principal resolution, security headers."""

from __future__ import annotations

import os

import structlog
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
    headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _ID_HEADERS]
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


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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

        await app(scope, receive, send_wrapper)

    return middleware
