"""Plan changes (next period, or now pro-rated by days) and cancellation with a final invoice."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from retaguarda.shared.documents import make_cpf
from tests.billing.conftest import PIX_SETTINGS

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # 12:00 in São Paulo


@pytest.fixture
def billing(client, admin, live_container, monkeypatch):
    monkeypatch.setattr(live_container.clock, "now", lambda: NOW)
    assert client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS).status_code == 200
    plans = {}
    for name, price in (("Fibra 100M", "100.00"), ("Fibra 500M", "160.00")):
        r = client.post("/api/v1/billing/plans", headers=admin, json={"name": name, "price": price,
                                                                       "cycle": "monthly"})
        assert r.status_code == 201, r.text
        plans[name] = r.json()["id"]
    return plans


def _customer(client, admin, n: int) -> str:
    r = client.post("/api/v1/customers", headers=admin, json={
        "name": f"Cliente {n}", "kind": "person", "document": make_cpf(f"{123456000 + n * 7:09d}"),
        "email": f"c{n}@x.test"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _subscribe(client, admin, customer_id, plan_id, start="2026-11-10"):
    r = client.post("/api/v1/billing/subscriptions", headers=admin, json={
        "customer_id": customer_id, "plan_id": plan_id, "due_day": 10, "start_date": start})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _invoices(client, admin, customer_id):
    items = client.get("/api/v1/billing/invoices", headers=admin, params={"customer": customer_id}).json()["items"]
    return sorted(items, key=lambda i: i["number"])


def _run(client, admin, day):
    r = client.post("/api/v1/billing/runs", headers=admin, json={"date": day})
    assert r.status_code == 200, r.text
    return r.json()


def test_plan_change_now_is_prorated_by_days_and_later_periods_use_the_new_plan(client, admin, billing):
    upgrader, downgrader = _customer(client, admin, 1), _customer(client, admin, 2)
    up = _subscribe(client, admin, upgrader, billing["Fibra 100M"])
    down = _subscribe(client, admin, downgrader, billing["Fibra 500M"])
    _run(client, admin, "2026-11-23")  # bills 10/11–09/12 (30 days)
    assert [i["total"] for i in _invoices(client, admin, upgrader)] == ["100.00"]
    # Upgrade on 23/11: 17 of 30 days left; 160×17/30 = 90.67 charged, 100×17/30 = 56.67 discounted
    r = client.post(f"/api/v1/billing/subscriptions/{up}/plan", headers=admin,
                    json={"plan_id": billing["Fibra 500M"], "when": "now"})
    assert r.status_code == 200, r.text
    adjustment = r.json()["adjustment"]["invoice"]
    assert adjustment["total"] == "34.00"
    inv = client.get(f"/api/v1/billing/invoices/{adjustment['id']}", headers=admin).json()
    assert inv["status"] == "issued" and inv["discount"] == "56.67" and inv["items"][0]["amount"] == "90.67"
    assert inv["pix"]["brcode"] and inv["boleto"]["digitable_line"]
    # A second immediate change in the same period is refused, nothing changes
    again = client.post(f"/api/v1/billing/subscriptions/{up}/plan", headers=admin,
                        json={"plan_id": billing["Fibra 100M"], "when": "now"})
    assert again.status_code == 409
    # Downgrade on 23/11: 160×17/30 = 90.67 unused exceeds 100×17/30 = 56.67, so 34.00 becomes credit
    r = client.post(f"/api/v1/billing/subscriptions/{down}/plan", headers=admin,
                    json={"plan_id": billing["Fibra 100M"], "when": "now"})
    assert r.status_code == 200 and r.json()["adjustment"] == {"invoice": None, "credit": "34.00"}
    account = client.get(f"/api/v1/billing/customers/{downgrader}/account", headers=admin).json()
    assert account["credit"] == "34.00"
    # The next period is billed on the new plans; the downgrader's credit is applied to it
    _run(client, admin, "2026-12-01")
    assert [i["total"] for i in _invoices(client, admin, upgrader)] == ["100.00", "34.00", "160.00"]
    nxt = _invoices(client, admin, downgrader)[-1]
    assert (nxt["total"], nxt["balance"], nxt["period_start"]) == ("100.00", "66.00", "2026-12-10")


def test_plan_change_at_next_period_and_bad_input(client, admin, billing):
    customer = _customer(client, admin, 3)
    sub = _subscribe(client, admin, customer, billing["Fibra 100M"])
    r = client.post(f"/api/v1/billing/subscriptions/{sub}/plan", headers=admin,
                    json={"plan_id": billing["Fibra 500M"]})
    assert r.status_code == 200, r.text
    assert (r.json()["pending_plan_id"], r.json()["pending_from"]) == (billing["Fibra 500M"], "2026-12-10")
    bad = client.post(f"/api/v1/billing/subscriptions/{sub}/plan", headers=admin,
                      json={"plan_id": billing["Fibra 500M"], "when": "yesterday"})
    assert bad.status_code in (400, 422) and "when" in bad.text
    _run(client, admin, "2026-12-01")
    assert [i["total"] for i in _invoices(client, admin, customer)] == ["100.00", "160.00"]


def test_cancellation_bills_unbilled_days_credits_unused_ones_and_cancels_later_invoices(client, admin, billing):
    billed_customer, new_customer = _customer(client, admin, 4), _customer(client, admin, 5)
    billed = _subscribe(client, admin, billed_customer, billing["Fibra 100M"])
    _run(client, admin, "2026-12-01")  # 10/11–09/12 and, within the lead time, 10/12–09/01
    assert [i["total"] for i in _invoices(client, admin, billed_customer)] == ["100.00", "100.00"]
    # Cancelled on 23/11: 16 unused days of the billed period → 53.33 credit; the next period's
    # unpaid invoice is cancelled
    r = client.post(f"/api/v1/billing/subscriptions/{billed}/cancel", headers=admin, json={"reason": "moving"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "cancelled" and body["final"]["invoice"] is None and body["final"]["credit"] == "53.33"
    later = _invoices(client, admin, billed_customer)[1]
    assert body["final"]["cancelled_invoices"] == [later["id"]] and later["status"] == "cancelled"
    assert client.get(f"/api/v1/billing/customers/{billed_customer}/account", headers=admin).json()["credit"] == "53.33"
    # A subscription started on 20/11 (first period 20/11–09/12 pro rata, not billed yet) cancelled
    # on 23/11 gets a final invoice for 4 of its 20 days: 66.67 × 4/20 = 13.33
    fresh = _subscribe(client, admin, new_customer, billing["Fibra 100M"], start="2026-11-20")
    r = client.post(f"/api/v1/billing/subscriptions/{fresh}/cancel", headers=admin, json={"reason": "gave up"})
    assert r.status_code == 200, r.text
    final = r.json()["final"]["invoice"]
    assert final["total"] == "13.33"
    inv = client.get(f"/api/v1/billing/invoices/{final['id']}", headers=admin).json()
    assert inv["status"] == "issued" and "final invoice" in inv["items"][0]["description"]
    # Cancelled subscriptions are not billed again; cancelling twice is a conflict
    _run(client, admin, "2026-12-05")
    assert len(_invoices(client, admin, new_customer)) == 1
    assert len([i for i in _invoices(client, admin, billed_customer) if i["status"] != "cancelled"]) == 1
    assert client.post(f"/api/v1/billing/subscriptions/{fresh}/cancel", headers=admin,
                       json={"reason": "again"}).status_code == 409


def test_subscriptions_page_changes_plan_and_cancels_through_its_forms(client, admin, billing):
    customer = _customer(client, admin, 6)
    sub = _subscribe(client, admin, customer, billing["Fibra 100M"])
    page = client.get("/billing/subscriptions", headers=admin)
    assert page.status_code == 200 and f'data-testid="subscription-{sub}"' in page.text
    assert 'data-testid="change-plan"' in page.text and 'data-testid="cancel-subscription"' in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(f"/billing/subscriptions/{sub}/action", headers=admin, follow_redirects=False, data={
        "action": "change_plan", "plan_id": billing["Fibra 500M"], "when": "next_period", "_csrf_token": token})
    assert r.status_code in (302, 303) and "notice=" in r.headers["location"], r.text
    assert "muda em 10/12/2026" in client.get("/billing/subscriptions", headers=admin).text
    r = client.post(f"/billing/subscriptions/{sub}/action", headers=admin, follow_redirects=False,
                    data={"action": "cancel", "reason": "", "_csrf_token": token})
    assert "error=" in r.headers["location"]  # a reason is required; nothing changed
    r = client.post(f"/billing/subscriptions/{sub}/action", headers=admin, follow_redirects=False,
                    data={"action": "cancel", "reason": "moving", "final_invoice": "on",
                          "_csrf_token": token})
    assert "notice=" in r.headers["location"]
    listed = client.get("/api/v1/billing/subscriptions", headers=admin, params={"customer": customer}).json()
    assert listed["items"][0]["status"] == "cancelled"
