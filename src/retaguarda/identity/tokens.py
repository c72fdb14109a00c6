"""Credentials on the wire: JWT access tokens, refresh tokens, session cookies, reset tokens.

All are derived from `settings.secret_key`, with a separate HMAC key per purpose so a value
minted for one use can never be replayed as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import jwt

from retaguarda.shared.compare import same_secret
from retaguarda.shared.errors import ValidationError

SESSION_COOKIE = "rg_session"
API_KEY_HEADER = "x-api-key"
ALGORITHM = "HS256"


def _purpose_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"retaguarda:{purpose}".encode(), hashlib.sha256).digest()


def _sign(secret: str, purpose: str, message: str) -> str:
    digest = hmac.new(_purpose_key(secret, purpose), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# Access tokens (JWT) ---------------------------------------------------------------------

def issue_access_token(secret: str, minutes: int, *, user_id: str, tenant_id: str, role: str,
                       permissions: frozenset[str] | set[str], customer_id: str | None,
                       family_id: str | None, now: datetime) -> tuple[str, int]:
    """A short-lived HS256 JWT; returns (token, expires_in seconds)."""
    expires_in = int(minutes) * 60
    claims = {
        "sub": user_id, "tid": tenant_id, "role": role, "perms": sorted(permissions),
        "cid": customer_id, "fam": family_id, "typ": "access",
        "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=expires_in)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in


def decode_access_token(secret: str, token: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The claims of a valid access token unexpired at `now` (the container's clock; the wall clock
    when not given), or None.

    Expiry is checked here against the injected instant rather than by PyJWT against the wall
    clock, so a token minted by a clock is judged by the same clock (and tests are deterministic).
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub", "tid"], "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        return None
    moment = (now or datetime.now(timezone.utc)).timestamp()
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)) or expires <= moment:
        return None
    return claims if claims.get("typ") == "access" else None


# Refresh tokens --------------------------------------------------------------------------

def new_refresh_token(family_id: UUID) -> str:
    return f"{family_id.hex}.{secrets.token_urlsafe(32)}"


def family_of(token: str) -> UUID | None:
    head, _, tail = str(token or "").partition(".")
    if not tail:
        return None
    try:
        return UUID(hex=head)
    except ValueError:
        return None


# API keys --------------------------------------------------------------------------------

def new_api_key() -> tuple[str, str, str]:
    """(full key `rg_<prefix>_<secret>`, prefix, sha256 of the secret)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"rg_{prefix}_{secret}", prefix, sha256_hex(secret)


def split_api_key(key: str) -> tuple[str, str] | None:
    """(prefix, sha256 of the secret) of a well-formed key, or None."""
    parts = str(key or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "rg" or not parts[1] or not parts[2]:
        return None
    return parts[1], sha256_hex(parts[2])


# Session cookies -------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionClaims:
    user_id: str
    session_id: str
    expires_at: datetime


def sign_session(secret: str, *, user_id: str, session_id: str, expires_at: datetime) -> str:
    payload = json.dumps({"u": user_id, "s": session_id, "e": int(expires_at.timestamp())},
                         separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{body}.{_sign(secret, 'session', body)}"


def read_session(secret: str, value: str | None, now: datetime) -> SessionClaims | None:
    """The claims of an authentic, unexpired cookie (revocation is checked by the caller)."""
    body, _, signature = str(value or "").partition(".")
    if not body or not signature or not same_secret(signature, _sign(secret, "session", body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        expires_at = datetime.fromtimestamp(int(data["e"]), tz=timezone.utc)
        claims = SessionClaims(str(data["u"]), str(data["s"]), expires_at)
    except (ValueError, KeyError, TypeError):
        return None
    return claims if now < claims.expires_at else None


# Login-unlock links (e-mailed when an account starts being delayed) ----------------------

UNLOCK_LIFETIME = 3600


def unlock_token(secret: str, user_id: str, issued: int) -> str:
    """An HMAC over the user id and the second it was issued (valid UNLOCK_LIFETIME seconds)."""
    uid = UUID(str(user_id)).hex
    return f"{uid}.{int(issued)}.{_sign(secret, 'unlock', f'{uid}:{int(issued)}')}"


def parse_unlock_token(secret: str, token: str, now: datetime) -> str:
    """The user id of an authentic, unexpired unlock token; ValidationError on `token` otherwise."""
    parts = str(token or "").strip().split(".")
    invalid = ValidationError("token", "the link is invalid or expired")
    if len(parts) != 3:
        raise invalid
    uid, issued, signature = parts
    try:
        user_id = str(UUID(hex=uid))
        stamp = int(issued)
    except ValueError:
        raise invalid from None
    if not same_secret(signature, _sign(secret, "unlock", f"{uid}:{stamp}")):
        raise invalid
    if not 0 <= now.timestamp() - stamp <= UNLOCK_LIFETIME:
        raise invalid
    return user_id


# One-time password-reset / set-password tokens -------------------------------------------

def reset_token(secret: str, user_id: str, version: int) -> str:
    """Nothing is stored: the token is an HMAC over the user id and the request's version."""
    uid = UUID(str(user_id)).hex
    return f"{uid}.{int(version)}.{_sign(secret, 'reset', f'{uid}:{int(version)}')}"


def parse_reset_token(secret: str, token: str) -> tuple[str, int]:
    """(user id, request version) of an authentic token; ValidationError on `token` otherwise."""
    parts = str(token or "").strip().split(".")
    invalid = ValidationError("token", "the link is invalid, used or expired; ask for a new one")
    if len(parts) != 3:
        raise invalid
    uid, version, signature = parts
    try:
        user_id = str(UUID(hex=uid))
        number = int(version)
    except ValueError:
        raise invalid from None
    if not same_secret(signature, _sign(secret, "reset", f"{uid}:{number}")):
        raise invalid
    return user_id, number
