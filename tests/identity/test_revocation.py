"""Defect 5 (#20): an access token stops working within 5 s after its family is revoked
(logout, refresh-token reuse), in this process at once and in other processes through the store
or Redis."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from retaguarda.identity.revocation import FamilyRevocations
from tests.conftest import build_container
from tests.identity.helpers import PASSWORD, api_signup


def _login(client: Any, email: str) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_logout_makes_the_access_token_fail_at_once(client: Any) -> None:
    api_signup(client, "ana@acme.test")
    tokens = _login(client, "ana@acme.test")
    assert client.get("/api/v1/me", headers=_bearer(tokens)).status_code == 200
    other = _login(client, "ana@acme.test")  # another device: its own family
    response = client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                           headers=_bearer(tokens))
    assert response.status_code in (200, 204), response.text
    assert client.get("/api/v1/me", headers=_bearer(tokens)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(other)).status_code == 200


def test_refresh_token_reuse_revokes_the_access_tokens_of_the_family(client: Any) -> None:
    api_signup(client, "bia@acme.test")
    first = _login(client, "bia@acme.test")
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 200
    # the old refresh token shows up again: it leaked, the family is revoked
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(first)).status_code == 401


def test_a_logout_in_another_process_applies_within_five_seconds(client: Any, live_container: Any,
                                                                tmp_path: Path) -> None:
    api_signup(client, "caio@acme.test")
    tokens = _login(client, "caio@acme.test")
    assert client.get("/api/v1/me", headers=_bearer(tokens)).status_code == 200
    # Another process (same database, its own caches) handles the logout
    other = build_container(live_container.settings.var_dir)
    try:
        from tests.identity.helpers import public_meta

        assert other.identity.logout(public_meta(), tokens["refresh_token"]) > 0
    finally:
        other.close()
    started = time.monotonic()
    while client.get("/api/v1/me", headers=_bearer(tokens)).status_code != 401:
        assert time.monotonic() - started < 5.0, "the access token outlived its family by 5 s"
        time.sleep(0.1)


def test_redis_shares_a_revocation_between_processes_at_once(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    family = str(uuid.uuid4())
    here, there = FamilyRevocations(client, token_lifetime=60), FamilyRevocations(client, token_lifetime=60)
    lookups: list[str] = []

    def live() -> bool:
        lookups.append("store")
        return True

    try:
        assert here.is_live(family, live) is True and there.is_live(family, live) is True
        assert lookups == ["store"]  # the second process used the shared verdict
        there._local.clear()
        here.revoked(family)
        assert there.is_live(family, live) is False  # no store read, no wait
        assert client.ttl(f"rg:family:{family}") > 3
    finally:
        client.delete(f"rg:family:{family}")


def test_without_redis_a_verdict_is_reused_only_briefly() -> None:
    revocations = FamilyRevocations(None, local_ttl=0.05)
    answers = iter([True, False])
    assert revocations.is_live("f", lambda: next(answers)) is True
    assert revocations.is_live("f", lambda: next(answers)) is True  # cached
    time.sleep(0.06)
    assert revocations.is_live("f", lambda: next(answers)) is False
