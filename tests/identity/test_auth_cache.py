"""Bearer tokens and user rows are remembered briefly; revocations still take effect in time."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from retaguarda.identity.application import Identity
from retaguarda.identity.authn import AuthCache
from retaguarda.shared.meta import Meta
from tests.identity.helpers import PASSWORD, api_login

pytestmark = pytest.mark.e2e


def _team(client, live_container):
    # Given an admin and a technician, the technician logged in with a bearer token
    r = client.post("/api/v1/auth/signup", json={"tenant_name": "Acme", "name": "Ana",
                                                 "email": "ana@acme.test", "password": PASSWORD})
    assert r.status_code == 201, r.text
    admin = live_container.identity.user_by_email("ana@acme.test")
    saved = live_container.identity.create_user(admin_meta_of(admin), email="tec@acme.test",
                                                name="Tec", role="technician", password=PASSWORD)
    live_container.wait_for(saved.position)
    return admin, saved.aggregate, api_login(client, "tec@acme.test")


def admin_meta_of(user):
    return Meta(tenant_id=user.tenant_id, actor=str(user.id), correlation_id="corr-test",
                at=datetime.now(timezone.utc))


def _another_process(live_container) -> Identity:
    # What a worker or the CLI is: its own Identity service on the same event store.
    return Identity(live_container.store, live_container.after_write, settings=live_container.settings)


def test_a_user_deactivated_elsewhere_is_refused_once_the_ttl_has_passed(client, live_container):
    live_container.auth_cache = AuthCache(ttl=0.05)
    admin, tec, bearer = _team(client, live_container)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200  # remembered now
    # When another process deactivates the technician and the directory shows it
    saved = _another_process(live_container).deactivate_user(admin_meta_of(admin), str(tec.id))
    assert live_container.wait_for(saved.position)
    time.sleep(0.1)
    # Then, the TTL having passed, the still-unexpired token is refused
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_within_the_ttl_a_change_made_elsewhere_is_not_seen_yet(client, live_container):
    live_container.auth_cache = AuthCache(ttl=60)
    admin, tec, bearer = _team(client, live_container)
    assert client.get("/api/v1/me", headers=bearer).json()["role"] == "technician"
    # When another process changes the role (the cache does not know of that write)
    saved = _another_process(live_container).change_role(admin_meta_of(admin), str(tec.id), "manager")
    assert live_container.wait_for(saved.position)
    # Then this process still answers from memory until the TTL passes
    assert client.get("/api/v1/me", headers=bearer).json()["role"] == "technician"


def test_a_deactivation_through_this_process_applies_at_once_despite_a_long_ttl(client, live_container):
    live_container.auth_cache = AuthCache(ttl=60)
    admin, tec, bearer = _team(client, live_container)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    # When this process's identity service deactivates the technician
    saved = live_container.identity.deactivate_user(admin_meta_of(admin), str(tec.id))
    assert live_container.wait_for(saved.position)
    # Then the very next request is refused
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_remembered_claims_stop_at_the_tokens_expiry():
    cache = AuthCache(ttl=60)
    now = datetime.now(timezone.utc).timestamp()
    cache.remember_claims("fresh", {"sub": "u", "tid": "t", "exp": now + 30})
    cache.remember_claims("stale", {"sub": "u", "tid": "t", "exp": now - 1})
    assert cache.claims("fresh") == {"sub": "u", "tid": "t", "exp": now + 30}
    assert cache.claims("stale") is None


def test_the_cache_is_bounded():
    cache = AuthCache(ttl=60, maxsize=3)
    for i in range(10):
        cache.remember_row(f"user-{i}", {"id": f"user-{i}"}, generation=0)
    assert [cache.row(f"user-{i}", 0) is not None for i in range(10)] == [False] * 7 + [True] * 3
    assert cache.row("user-9", generation=1) is None  # a local identity write drops it
