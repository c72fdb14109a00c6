"""The acceptance path on the demo tenant: customer@demo.test logs in and finds a plan, an open
invoice, offered plans and a week of connection sessions (from the demo seed)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_the_demo_customer_sees_plan_invoice_plans_and_sessions(client: Any, live_container: Any):
    from retaguarda.seed import seed_demo

    seed_demo(live_container)
    seed_demo(live_container)  # idempotent
    password = live_container.settings.demo_password
    r = client.post("/api/v1/auth/login", json={"email": "customer@demo.test", "password": password})
    assert r.status_code == 200, r.text
    me_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = client.get("/api/v1/portal/me", headers=me_headers).json()
    assert me["customer"]["id"] and me["plan"]["name"] and me["plan"]["price"]
    invoices = client.get("/api/v1/portal/invoices", headers=me_headers).json()["items"]
    assert any(i["status"] in ("issued", "overdue") and i["pay_url"] for i in invoices)
    plans = client.get("/api/v1/portal/plans", headers=me_headers).json()["items"]
    assert len(plans) >= 2 and any(p["id"] != me["plan"]["id"] for p in plans)
    sessions = client.get("/api/v1/portal/connections", headers=me_headers).json()
    assert sessions["total"] == 7
    assert client.get("/api/v1/billing/invoices", headers=me_headers).status_code == 403
