"""Authenticators: `X-API-Key`, `Authorization: Bearer <jwt>` and the `rg_session` cookie.

Each is `async def(container, scope) -> Principal | None` and runs its blocking look-ups in a
worker thread. The user directory read model answers first (one indexed query); when a row is
missing (the projector has not caught up yet) the event store answers. A deactivated user or
a revoked key or session yields no principal, so the guard answers 401.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from http.cookies import CookieError, SimpleCookie
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from retaguarda.identity import tokens
from retaguarda.identity.permissions import permissions_of
from retaguarda.web.principal import Principal

Authenticator = Callable[[Any, Any], Awaitable[Principal | None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USE_INTERVAL = timedelta(minutes=1)


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _client_ip(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def user_record(container: Any, user_id: str) -> dict[str, Any] | None:
    """The user's directory row, or the same facts from the event store when not projected yet."""
    from projections.identity.user_directory import auth_user

    try:
        with container.engine.connect() as conn:
            row = auth_user(conn, user_id)
    except SQLAlchemyError:  # table missing (not migrated yet): use the event store
        row = None
    if row is not None:
        return row
    user = container.identity.find_user(user_id)
    if user is None:
        return None
    return {"id": str(user.id), "tenant_id": user.tenant_id, "email": user.email, "name": user.name,
            "role": user.role, "active": user.active, "customer_id": user.customer_id}


def _user_principal(row: dict[str, Any], via: str, session_id: str | None) -> Principal | None:
    if not row.get("active"):
        return None
    return Principal(kind="user", id=row["id"], tenant_id=row["tenant_id"], role=row["role"],
                     permissions=permissions_of(row["role"]), email=row["email"], name=row["name"],
                     customer_id=row.get("customer_id"), via=via, session_id=session_id)


def principal_from_jwt(container: Any, token: str) -> Principal | None:
    claims = tokens.decode_access_token(container.settings.secret_key, token)
    if claims is None:
        return None
    row = user_record(container, str(claims["sub"]))
    if row is None or row["tenant_id"] != claims["tid"]:
        return None
    return _user_principal(row, "jwt", claims.get("fam"))


def principal_from_session(container: Any, cookie_value: str) -> Principal | None:
    now = container.clock.now()
    claims = tokens.read_session(container.settings.secret_key, cookie_value, now)
    if claims is None:
        return None
    if not container.identity.session_is_live(claims.session_id, claims.user_id, now):
        return None
    row = user_record(container, claims.user_id)
    return _user_principal(row, "session", claims.session_id) if row else None


class ApiKeyAuthenticator:
    """Finds the key by prefix, compares sha256 digests, records last use once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorded: dict[str, datetime] = {}

    def principal(self, container: Any, raw: str, ip: str = "", correlation_id: str = "") -> Principal | None:
        from projections.identity.user_directory import auth_api_key

        parts = tokens.split_api_key(raw)
        if parts is None:
            return None
        prefix, digest = parts
        try:
            with container.engine.connect() as conn:
                row = auth_api_key(conn, prefix)
        except SQLAlchemyError:  # table missing: use the event store
            row = None
        if row is not None:
            if row["revoked"] or not hmac.compare_digest(row["secret_hash"], digest):
                return None
            key_id, tenant_id, scopes = row["id"], row["tenant_id"], row["scopes"]
            name, last_used = row["name"], _aware(row["last_used_at"])
        else:
            key = container.identity.find_api_key(raw)
            if key is None:
                return None
            key_id, tenant_id, scopes = str(key.id), key.tenant_id, list(key.scopes)
            name, last_used = key.name, key.last_used_at
        self._note_use(container, key_id, last_used, ip, correlation_id)
        return Principal(kind="apikey", id=key_id, tenant_id=tenant_id, role="apikey",
                         permissions=frozenset(scopes), name=name, via="apikey")

    def _note_use(self, container: Any, key_id: str, last_used: datetime | None, ip: str,
                  correlation_id: str) -> None:
        now = container.clock.now()
        with self._lock:
            seen = max([t for t in (last_used, self._recorded.get(key_id)) if t is not None],
                       default=None)
            if seen is not None and now - seen < USE_INTERVAL:
                return
            self._recorded[key_id] = now
        container.identity.record_api_key_use(key_id, now, correlation_id, ip)

    async def __call__(self, container: Any, scope: Any) -> Principal | None:
        raw = _header(scope, b"x-api-key")
        if not raw:
            return None
        return await anyio.to_thread.run_sync(
            self.principal, container, raw, _client_ip(scope), str(scope.get("correlation_id") or ""))


async def bearer_authenticator(container: Any, scope: Any) -> Principal | None:
    header = _header(scope, b"authorization") or ""
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    return await anyio.to_thread.run_sync(principal_from_jwt, container, token.strip())


async def session_authenticator(container: Any, scope: Any) -> Principal | None:
    # The API is exempt from CSRF checks, so a cookie may only authorise safe API requests.
    path, method = str(scope.get("path", "")), str(scope.get("method", "GET")).upper()
    if path.startswith("/api/") and method not in SAFE_METHODS:
        return None
    raw = _header(scope, b"cookie")
    if not raw or tokens.SESSION_COOKIE not in raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(tokens.SESSION_COOKIE)
    except CookieError:
        return None
    if morsel is None or not morsel.value:
        return None
    return await anyio.to_thread.run_sync(principal_from_session, container, morsel.value)


def authenticators() -> list[Authenticator]:
    return [ApiKeyAuthenticator(), bearer_authenticator, session_authenticator]
