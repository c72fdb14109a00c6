"""The WordPress-facing API over HTTP: API key with campaigns:dispatch, 202/200/422, status polling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.campaigns.conftest import WEBHOOK_SECRET, credentials, recipients, wait_until

PASSWORD = "a long enough password"


@pytest.fixture
def clock() -> Any:
    """Real time (logins check token expiry against it); quiet hours are off for this tenant."""
    from datetime import datetime, timezone

    from tests.campaigns.conftest import FastClock

    return FastClock(datetime.now(timezone.utc))


@pytest.fixture
def api(camp: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    with TestClient(create_app(camp), base_url="http://127.0.0.1:8000") as tc:
        yield tc


@pytest.fixture
def wp(api: Any, camp: Any, fakes: dict[str, Any]) -> dict[str, Any]:
    """A tenant admin, its settings pointed at the fakes, and a WordPress API key."""
    r = api.post("/api/v1/auth/signup", json={"tenant_name": "Marketing SA", "name": "Admin",
                                              "email": "admin@mkt.test", "password": PASSWORD})
    assert r.status_code == 201, r.text
    login = api.post("/api/v1/auth/login", json={"email": "admin@mkt.test", "password": PASSWORD}).json()
    admin = {"Authorization": f"Bearer {login['access_token']}"}
    r = api.post("/api/v1/api-keys", headers=admin, json={"name": "WordPress", "scopes": ["campaigns:dispatch"]})
    assert r.status_code == 201, r.text
    key = {"X-API-Key": r.json()["key"]}
    r = api.put("/api/v1/campaigns/settings", headers=admin, json={
        "general": {"backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.2,
                    "webhook_url": fakes["wordpress"].webhook_url, "quiet_start": "00:00", "quiet_end": "00:00"},
        "credentials": credentials(fakes), "webhook_secret": WEBHOOK_SECRET})
    assert r.status_code == 200, r.text
    assert "sms-test-key" not in r.text and WEBHOOK_SECRET not in r.text  # secrets never come back
    return {"admin": admin, "key": key}


def _payload(external_id: str = "wp-1001", **changes: Any) -> dict[str, Any]:
    body = {"external_id": external_id, "name": "Black Friday", "provider": "cda",
            "content": {"text": "Oferta especial!"}, "recipients": recipients(3), "send_at": None}
    body.update(changes)
    return body


def test_wordpress_dispatches_polls_and_a_repeat_is_the_same_campaign(api, wp, fakes):
    # Given WordPress posts a campaign with its API key
    r = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=_payload())
    assert r.status_code == 202, r.text
    campaign_id = r.json()["campaign_id"]
    assert r.json()["status"] == "received"
    # When it polls the status with the same key, the campaign completes
    def status() -> dict[str, Any]:
        s = api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=wp["key"])
        assert s.status_code == 200, s.text
        return s.json()
    done = wait_until(lambda: (s := status())["status"] == "completed" and s, timeout=20)
    assert done, status()
    assert done["totals"] == {"queued": 0, "sent": 3, "delivered": 0, "failed": 0, "skipped": 0}
    assert done["providers"]["cda"]["sent"] == 3 and done["updated_at"]
    assert len(fakes["cda"].received) == 3
    # And the same external id again is the same campaign (200), nothing sent twice
    again = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=_payload())
    assert again.status_code == 200 and again.json()["campaign_id"] == campaign_id
    assert len(fakes["cda"].received) == 3
    # And the key cannot read the campaign list (only dispatch + status)
    assert api.get("/api/v1/campaigns", headers=wp["key"]).status_code == 403


BAD = [
    ({"provider": "pigeon"}, "provider"),
    ({"content": {"text": ""}}, "content.text"),
    ({"recipients": [{"name": "Sem telefone", "consent": True}]}, "recipients[0].phone"),
    ({"send_at": "amanhã"}, "send_at"),
    ({"external_id": ""}, "external_id"),
]


def test_an_invalid_dispatch_is_a_422_naming_the_field_and_writes_nothing(api, wp, camp):
    for changes, field in BAD:
        head = camp.store.head()
        r = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=_payload(**changes))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field
        written = camp.store.read(head + 1, 1000)
        assert not [n.topic for n in written if "campaigns" in n.topic]


def test_a_missing_field_is_a_422_too(api, wp):
    body = _payload()
    del body["provider"]
    r = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=body)
    assert r.status_code in (400, 422) and "provider" in r.text


def test_status_of_another_tenants_campaign_is_404(api, wp, camp):
    from tests.campaigns.conftest import dispatch

    other = dispatch(camp, "cda", 1)  # tenant-camp, not the WordPress key's tenant
    assert api.get(f"/api/v1/campaigns/{other}/status", headers=wp["key"]).status_code == 404
    assert api.get("/api/v1/campaigns/not-a-uuid/status", headers=wp["key"]).status_code == 404


def test_no_key_is_401(api):
    assert api.post("/api/v1/campaigns/dispatch", json=_payload()).status_code == 401


def test_receipts_mark_messages_delivered_idempotently(api, wp, camp, fakes):
    r = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=_payload("wp-rcpt"))
    campaign_id = r.json()["campaign_id"]
    wait_until(lambda: api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=wp["key"]).json()["status"]
               == "completed")
    key = next(iter(fakes["cda"].received))
    body = fakes["cda"].receipt(key)
    first = api.post("/api/v1/campaigns/receipts/cda", headers=wp["key"], json=body)
    assert first.status_code == 200 and first.json()["updated"] == 1, first.text
    second = api.post("/api/v1/campaigns/receipts/cda", headers=wp["key"], json=body)
    assert second.json()["updated"] == 0 and second.json()["unchanged"] == 1
    totals = api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=wp["key"]).json()["totals"]
    assert (totals["delivered"], totals["sent"]) == (1, 2)


def test_a_sair_reply_at_the_inbound_webhook_opts_the_phone_out_of_later_campaigns(api, wp):
    people = recipients(2)
    r = api.post("/api/v1/campaigns/inbound", headers=wp["key"], json={"from": people[1]["phone"], "text": "Saír"})
    assert r.status_code == 200 and r.json() == {"opted_out": True, "phone": people[1]["phone"]}
    assert api.post("/api/v1/campaigns/inbound", headers=wp["key"],
                    json={"from": people[0]["phone"], "text": "obrigado"}).json() == {"opted_out": False}
    listed = api.get("/api/v1/campaigns/optouts", headers=wp["admin"]).json()
    assert [(o["phone"], o["source"]) for o in listed["items"]] == [(people[1]["phone"], "reply")]
    campaign_id = api.post("/api/v1/campaigns/dispatch", headers=wp["key"],
                           json=_payload("wp-optout", recipients=people)).json()["campaign_id"]
    done = wait_until(lambda: (s := api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=wp["key"]).json())
                      ["status"] == "completed" and s)
    assert done["totals"]["sent"] == 1 and done["totals"]["skipped"] == 1
    queues = api.get("/api/v1/campaigns/queues", headers=wp["admin"])
    assert queues.status_code == 200
    cda = next(q for q in queues.json()["queues"] if q["queue"] == "cda")
    assert cda["sent_last_hour"] >= 1 and len(cda["throughput"]) == 60
    detail = api.get(f"/api/v1/campaigns/{campaign_id}", headers=wp["admin"]).json()
    assert detail["failures"] == [{"status": "skipped", "reason": "opted out", "count": 1}]


def test_a_campaign_scheduled_for_later_waits_and_can_be_cancelled(api, wp, camp, fakes):
    from datetime import timedelta

    later = (camp.clock.now() + timedelta(hours=1)).isoformat()
    r = api.post("/api/v1/campaigns/dispatch", headers=wp["key"], json=_payload("wp-later", send_at=later))
    assert r.status_code == 202, r.text
    campaign_id = r.json()["campaign_id"]
    assert wait_until(lambda: api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=wp["key"]).json()
                      ["status"] == "scheduled")
    r = api.post(f"/api/v1/campaigns/{campaign_id}/cancel", headers=wp["admin"], json={"reason": "adiada"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    again = api.post(f"/api/v1/campaigns/{campaign_id}/cancel", headers=wp["admin"], json={})
    assert again.status_code == 409
    assert not fakes["cda"].received
    # the WordPress key may not cancel
    assert api.post(f"/api/v1/campaigns/{campaign_id}/cancel", headers=wp["key"], json={}).status_code == 403
