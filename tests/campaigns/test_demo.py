"""The acceptance path on the demo tenant: the seed's settings reach providers at the settings URLs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.conftest import recipients, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def clock() -> Any:
    from datetime import datetime, timezone

    from tests.campaigns.conftest import FastClock

    return FastClock(datetime.now(timezone.utc))


def test_the_demo_admin_creates_a_wordpress_key_and_a_campaign_is_delivered(camp, fakes):
    from litestar.testing import TestClient

    from retaguarda.campaigns.install import seed_demo
    from retaguarda.identity.install import seed_demo as seed_identity
    from retaguarda.main import create_app

    identity = seed_identity(camp, "demo-password-123")
    seed_demo(camp, identity["tenant_id"], identity.get("admin_id", "system:seed"))
    seed_demo(camp, identity["tenant_id"], "system:seed")  # idempotent
    with TestClient(create_app(camp), base_url="http://127.0.0.1:8000") as api:
        login = api.post("/api/v1/auth/login", json={"email": "admin@demo.test", "password": "demo-password-123"})
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        r = api.post("/api/v1/api-keys", headers=admin, json={"name": "WordPress", "scopes": ["campaigns:dispatch"]})
        assert r.status_code == 201, r.text
        key = {"X-API-Key": r.json()["key"]}
        for provider in ("cda", "noah"):
            r = api.post("/api/v1/campaigns/dispatch", headers=key, json={
                "external_id": f"demo-{provider}", "name": "Demo", "provider": provider,
                "content": {"text": "Olá!"}, "recipients": recipients(3), "send_at": None})
            assert r.status_code == 202, r.text
            campaign_id = r.json()["campaign_id"]
            done = wait_until(lambda: (s := api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=key).json())
                              ["status"] == "completed" and s, timeout=30)
            assert done and done["totals"]["sent"] == 3, done
            assert len(fakes[provider].received) == 3
        settings = api.get("/api/v1/campaigns/settings", headers=admin).json()
        assert settings["credentials_set"]["cda"] == ["api_key", "sender"]
        assert "cda-test-key" not in str(settings)
