"""Per-request locale: an ASGI middleware that sets `retaguarda.i18n`'s context variable.

Pages: the signed-in user's profile locale, else `Accept-Language` (anonymous pages), else pt_BR.
API (`/api/`): `Accept-Language` only, English by default, so clients of the machine contract see
no change; the human-readable `title`/`detail` of problem details follow it.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from retaguarda.i18n import DEFAULT_LOCALE, negotiate, normalize_locale, reset_locale, set_locale

API_DEFAULT_LOCALE = "en"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def request_locale(scope: Scope) -> str:
    accept = _header(scope, b"accept-language")
    if str(scope.get("path", "")).startswith("/api/"):
        return negotiate(accept, API_DEFAULT_LOCALE)
    principal = scope.get("principal")
    chosen = normalize_locale(getattr(principal, "locale", None)) if principal is not None else None
    return chosen or negotiate(accept, DEFAULT_LOCALE)


def locale_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        locale = request_locale(scope)
        scope["locale"] = locale  # type: ignore[typeddict-unknown-key]
        token = set_locale(locale)
        try:
            await app(scope, receive, send)
        finally:
            reset_locale(token)

    return middleware
