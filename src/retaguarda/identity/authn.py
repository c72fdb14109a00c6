"""Authenticators: `X-API-Key`, `Authorization: Bearer <jwt>` and the `rg_session` cookie.

Each is `async def(container, scope) -> Principal | None` and runs its blocking look-ups in a
worker thread. The user directory read model answers first (one indexed query); when a row is
missing (the projector has not caught up yet) the event store answers. A deactivated user or
a revoked key or session yields no principal, so the guard answers 401.

Bearer tokens and user rows are remembered for a short while (`AuthCache`, USER_CACHE_TTL =
2 s, bounded), so a busy API client costs neither a signature check nor a query per request.
What that means for revocation: a deactivation or role change made through this process's
identity service takes effect on the next request; one made by another process (a worker, the
CLI, another web replica) takes effect at most USER_CACHE_TTL after the user directory shows
it. An expired token is refused at once (its `exp` is checked on every hit), and so is a token
whose refresh family was revoked (logout, refresh-token reuse): the family's state is checked per
request through `identity.revocation` (at once in this process, within 5 s elsewhere). Sessions and
API keys are still checked against the database on every request.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from retaguarda.identity import tokens
from retaguarda.identity.permissions import permissions_of
from retaguarda.shared.clock import as_utc
from retaguarda.web.principal import Principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

Authenticator = Callable[[Any, Any], Awaitable[Principal | None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USE_INTERVAL = timedelta(minutes=1)
USER_CACHE_TTL = 2.0  # seconds a verified token / user row is trusted without asking again
USER_CACHE_SIZE = 4096  # entries per map; the oldest goes first when full


class AuthCache:
    """Verified access-token claims (by token) and user rows (by user id), briefly.

    A row is also dropped as soon as the identity service of this process saved anything after
    it was read (`Service.writes`), so local deactivations and role changes apply at once.
    Only successful look-ups are remembered: refusals always take the slow path.
    """

    def __init__(self, ttl: float = USER_CACHE_TTL, maxsize: int = USER_CACHE_SIZE) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._claims: dict[str, tuple[dict[str, Any], float, float]] = {}
        self._rows: dict[str, tuple[dict[str, Any], float, int]] = {}

    def claims(self, token: str) -> dict[str, Any] | None:
        entry = self._claims.get(token)
        if entry is None:
            return None
        claims, deadline, exp = entry
        if time.monotonic() >= deadline or time.time() >= exp:
            self._claims.pop(token, None)
            return None
        return claims

    def remember_claims(self, token: str, claims: dict[str, Any]) -> None:
        exp = float(claims.get("exp") or 0)
        if self.ttl > 0 and exp > time.time():
            self._put(self._claims, token, (claims, time.monotonic() + self.ttl, exp))

    def row(self, user_id: str, generation: int) -> dict[str, Any] | None:
        entry = self._rows.get(user_id)
        if entry is None:
            return None
        row, deadline, seen = entry
        if seen != generation or time.monotonic() >= deadline:
            self._rows.pop(user_id, None)
            return None
        return row

    def remember_row(self, user_id: str, row: dict[str, Any], generation: int) -> None:
        if self.ttl > 0:
            self._put(self._rows, user_id, (row, time.monotonic() + self.ttl, generation))

    def _put(self, entries: dict[str, Any], key: str, value: Any) -> None:
        with self._lock:
            entries.pop(key, None)
            while len(entries) >= self.maxsize:
                entries.pop(next(iter(entries)))
            entries[key] = value


def auth_cache(container: Container) -> AuthCache:
    """The container's AuthCache (made on first use)."""
    cache = container.auth_cache
    if cache is None:
        cache = container.auth_cache = AuthCache()
    return cache


def _identity_writes(container: Container) -> int:
    return getattr(getattr(container, "identity", None), "writes", 0)


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None




def _client_ip(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def user_record(container: Container, user_id: str) -> dict[str, Any] | None:
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
            "role": user.role, "active": user.active, "customer_id": user.customer_id,
            "locale": getattr(user, "locale", "pt_BR")}


def _user_principal(row: dict[str, Any], via: str, session_id: str | None) -> Principal | None:
    if not row.get("active"):
        return None
    return Principal(kind="user", id=row["id"], tenant_id=row["tenant_id"], role=row["role"],
                     permissions=permissions_of(row["role"]), email=row["email"], name=row["name"],
                     customer_id=row.get("customer_id"), via=via, session_id=session_id,
                     locale=row.get("locale") or "pt_BR")


def cached_user_record(container: Container, user_id: str) -> dict[str, Any] | None:
    """`user_record` through the container's AuthCache (see the module docstring)."""
    cache = auth_cache(container)
    generation = _identity_writes(container)  # read before the row, so a write in between drops it
    row = cache.row(user_id, generation)
    if row is None:
        row = user_record(container, user_id)
        if row is not None:
            cache.remember_row(user_id, row, generation)
    return row


def _jwt_principal(container: Container, claims: dict[str, Any],
                   row: dict[str, Any] | None) -> Principal | None:
    if row is None or row["tenant_id"] != claims["tid"]:
        return None
    return _user_principal(row, "jwt", claims.get("fam"))


def family_is_live(container: Container, claims: dict[str, Any]) -> bool:
    """The token's refresh family is not revoked (logout, reuse): checked per request, cached briefly
    (see `identity.revocation`)."""
    family = claims.get("fam")
    if not family:
        return True  # tokens minted without a family (none today) have only their expiry
    identity = container.identity
    return bool(container.identity_revocations.is_live(str(family), lambda: identity.access_family_is_live(
        str(family), str(claims["sub"]), container.clock.now())))


def principal_from_jwt(container: Container, token: str) -> Principal | None:
    cache = auth_cache(container)
    claims = cache.claims(token)
    if claims is None:
        claims = tokens.decode_access_token(container.settings.secret_key, token, container.clock.now())
        if claims is None:
            return None
        cache.remember_claims(token, claims)
    if not family_is_live(container, claims):
        return None
    return _jwt_principal(container, claims, cached_user_record(container, str(claims["sub"])))


def cached_principal_from_jwt(container: Container, token: str) -> Principal | bool | None:
    """The principal when token, family verdict and user row are all remembered; False when a
    look-up is due."""
    cache = auth_cache(container)
    claims = cache.claims(token)
    if claims is None:
        return False
    family = claims.get("fam")
    if family:
        live = container.identity_revocations.known(str(family))
        if live is None:
            return False
        if not live:
            return None
    row = cache.row(str(claims["sub"]), _identity_writes(container))
    if row is None:
        return False
    return _jwt_principal(container, claims, row)


def principal_from_session(container: Container, cookie_value: str) -> Principal | None:
    now = container.clock.now()
    claims = tokens.read_session(container.settings.secret_key, cookie_value, now)
    if claims is None:
        return None
    if not container.identity.session_is_live(claims.session_id, claims.user_id, now):
        return None
    row = cached_user_record(container, claims.user_id)
    return _user_principal(row, "session", claims.session_id) if row else None


class ApiKeyAuthenticator:
    """Finds the key by prefix, compares sha256 digests, records last use once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorded: dict[str, datetime] = {}

    def principal(self, container: Container, raw: str, ip: str = "",
                  correlation_id: str = "") -> Principal | None:
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
            name, last_used = row["name"], as_utc(row["last_used_at"])
        else:
            key = container.identity.find_api_key(raw)
            if key is None:
                return None
            key_id, tenant_id, scopes = str(key.id), key.tenant_id, list(key.scopes)
            name, last_used = key.name, key.last_used_at
        self._note_use(container, key_id, last_used, ip, correlation_id)
        return Principal(kind="apikey", id=key_id, tenant_id=tenant_id, role="apikey",
                         permissions=frozenset(scopes), name=name, via="apikey")

    def _note_use(self, container: Container, key_id: str, last_used: datetime | None, ip: str,
                  correlation_id: str) -> None:
        now = container.clock.now()
        with self._lock:
            seen = max([t for t in (last_used, self._recorded.get(key_id)) if t is not None],
                       default=None)
            if seen is not None and now - seen < USE_INTERVAL:
                return
            self._recorded[key_id] = now
        container.identity.record_api_key_use(key_id, now, correlation_id, ip)

    async def __call__(self, container: Container, scope: Any) -> Principal | None:
        raw = _header(scope, b"x-api-key")
        if not raw:
            return None
        return await anyio.to_thread.run_sync(
            self.principal, container, raw, _client_ip(scope), str(scope.get("correlation_id") or ""))


async def bearer_authenticator(container: Container, scope: Any) -> Principal | None:
    header = _header(scope, b"authorization") or ""
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    cached = cached_principal_from_jwt(container, token)  # no thread hop when remembered
    if cached is not False:
        return cached  # type: ignore[return-value]  # True is never returned (see cached_principal_from_jwt)
    return await anyio.to_thread.run_sync(principal_from_jwt, container, token)


async def session_authenticator(container: Container, scope: Any) -> Principal | None:
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
