"""Tokens on the wire: JWT claims, session cookies, reset tokens, API-key format."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from retaguarda.identity import tokens
from retaguarda.shared.errors import ValidationError

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
NOW = datetime.now(timezone.utc)


def test_an_access_token_carries_the_agreed_claims_and_expires():
    """Judged by an injected instant, not the wall clock: NOW is fixed at import, and under a long,
    loaded run the test used to start more than 15 minutes later (ExpiredSignatureError)."""
    token, expires_in = tokens.issue_access_token(
        SECRET, 15, user_id="u1", tenant_id="t1", role="finance", permissions={"billing:read"},
        customer_id=None, family_id="f1", now=NOW)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert (claims["sub"], claims["tid"], claims["role"], claims["perms"], claims["cid"]) == (
        "u1", "t1", "finance", ["billing:read"], None)
    assert expires_in == 900 and claims["exp"] - claims["iat"] == 900
    assert tokens.decode_access_token(SECRET, token, NOW)["sub"] == "u1"
    assert tokens.decode_access_token(SECRET, token, NOW + timedelta(seconds=899))["sub"] == "u1"
    assert tokens.decode_access_token(SECRET, token, NOW + timedelta(seconds=900)) is None
    assert tokens.decode_access_token("another-secret-of-enough-length-0123456789", token, NOW) is None
    old, _ = tokens.issue_access_token(SECRET, 15, user_id="u1", tenant_id="t1", role="finance",
                                       permissions=set(), customer_id=None, family_id=None,
                                       now=NOW - timedelta(hours=1))
    assert tokens.decode_access_token(SECRET, old, NOW) is None
    # Without an instant the wall clock judges: an hour-old token is expired whatever NOW was
    assert tokens.decode_access_token(SECRET, old) is None


def test_a_session_cookie_is_signed_and_expires():
    value = tokens.sign_session(SECRET, user_id="u1", session_id="s1", expires_at=NOW + timedelta(hours=1))
    claims = tokens.read_session(SECRET, value, NOW)
    assert (claims.user_id, claims.session_id) == ("u1", "s1")
    assert tokens.read_session(SECRET, value, NOW + timedelta(hours=2)) is None
    assert tokens.read_session("another-secret-of-enough-length-0123456789", value, NOW) is None
    body, sig = value.split(".")
    assert tokens.read_session(SECRET, body[:-2] + "xx." + sig, NOW) is None


def test_a_reset_token_is_bound_to_the_user_and_the_request_version():
    user_id = str(uuid.uuid4())
    token = tokens.reset_token(SECRET, user_id, 7)
    assert tokens.parse_reset_token(SECRET, token) == (user_id, 7)
    forged = token.replace(".7.", ".8.")
    for bad in (forged, "garbage", token + "x"):
        with pytest.raises(ValidationError) as err:
            tokens.parse_reset_token(SECRET, bad)
        assert err.value.field == "token"
    with pytest.raises(ValidationError):
        tokens.parse_reset_token("other-secret", token)


def test_an_api_key_is_rg_prefix_secret_and_only_its_digest_is_kept():
    key, prefix, digest = tokens.new_api_key()
    assert key.startswith(f"rg_{prefix}_")
    assert tokens.split_api_key(key) == (prefix, digest)
    assert digest not in key
    assert tokens.split_api_key("Bearer x") is None
