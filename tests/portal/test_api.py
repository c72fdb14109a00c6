"""The portal API as the acceptance checks call it: own data only (another customer's ids → 404,
staff routes → 403), tickets, offered plans, plan change approved from the next period, the
data export, and RADIUS sessions pushed with an API key (interim updates never double-count)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.portal.conftest import Billed


def test_me_invoices_pdf_and_isolation(client: Any, as_: Any, billed: Billed):
    ws = billed.ws
    r = client.get("/api/v1/portal/me", headers=as_("customer"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["customer"]["id"] == ws.customers[0] and me["customer"]["name"] == "Cliente Um"
    assert me["plan"]["id"] == billed.plans["basic"] and me["plan"]["name"] == "Fibra 100M"
    assert Decimal(me["plan"]["price"]) == Decimal("99.90")
    assert me["next_invoice"]["id"] == billed.invoices[0]

    r = client.get("/api/v1/portal/invoices", headers=as_("customer"))
    body = r.json()
    assert r.status_code == 200 and body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert set(item) >= {"id", "number", "status", "total", "due_date", "pay_url"}
    assert item["id"] == billed.invoices[0] and item["status"] == "issued"
    assert Decimal(item["total"]) == Decimal("99.90")
    assert item["pay_url"].startswith(f"/pay/{billed.invoices[0]}/")
    assert client.get(item["pay_url"]).status_code == 200  # the public payment page opens

    r = client.get(f"/api/v1/portal/invoices/{billed.invoices[0]}/pdf", headers=as_("customer"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    other = billed.invoices[1]
    assert client.get(f"/api/v1/portal/invoices/{other}/pdf", headers=as_("customer")).status_code == 404
    assert client.get(f"/api/v1/portal/invoices/{other}", headers=as_("customer")).status_code == 404
    assert client.get("/api/v1/billing/invoices", headers=as_("customer")).status_code == 403
    # staff have no portal of their own
    assert client.get("/api/v1/portal/me", headers=as_("manager")).status_code == 403


def test_tickets_are_own(client: Any, as_: Any, billed: Billed):
    r = client.post(
        "/api/v1/portal/tickets",
        headers=as_("customer"),
        json={"title": "Internet lenta", "description": "Desde ontem à noite"},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["number"] == "T-000001" and ticket["status"] == "open"
    r = client.get("/api/v1/portal/tickets", headers=as_("customer"))
    assert [t["id"] for t in r.json()["items"]] == [ticket["id"]]
    assert client.get("/api/v1/portal/tickets", headers=as_("customer2")).json()["total"] == 0
    assert client.get(f"/api/v1/portal/tickets/{ticket['id']}", headers=as_("customer")).status_code == 200
    assert client.get(f"/api/v1/portal/tickets/{ticket['id']}", headers=as_("customer2")).status_code == 404
    r = client.post("/api/v1/portal/tickets", headers=as_("customer"), json={"title": "", "description": "x"})
    assert r.status_code == 422 and "title" in r.text
    assert client.get("/api/v1/portal/tickets", headers=as_("customer")).json()["total"] == 1


def test_plan_change_requested_then_approved_from_next_period(
    client: Any, as_: Any, billed: Billed, live_container: Any
):
    r = client.get("/api/v1/portal/plans", headers=as_("customer"))
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["items"]] == ["Fibra 100M", "Fibra 500M"]  # not the hidden one
    r = client.post(
        "/api/v1/portal/plan-change", headers=as_("customer"), json={"plan_id": billed.plans["hidden"]}
    )
    assert r.status_code == 422 and "plan_id" in r.text
    r = client.post(
        "/api/v1/portal/plan-change", headers=as_("customer"), json={"plan_id": billed.plans["fast"]}
    )
    assert r.status_code == 202, r.text
    req = r.json()
    assert req["status"] == "requested" and req["id"]
    # the other customer cannot see or approve it; the customer cannot approve it
    assert client.get(f"/api/v1/portal/plan-change/{req['id']}", headers=as_("customer2")).status_code == 404
    assert (
        client.post(f"/api/v1/portal/plan-change/{req['id']}/approve", headers=as_("customer")).status_code
        == 403
    )
    staff_list = client.get("/api/v1/portal/plan-change?status=requested", headers=as_("manager")).json()
    assert [i["id"] for i in staff_list["items"]] == [req["id"]]
    assert staff_list["items"][0]["plan_name"] == "Fibra 500M"
    r = client.post(f"/api/v1/portal/plan-change/{req['id']}/approve", headers=as_("manager"))
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved" and approved["effective_from"]
    from retaguarda.billing import Subscription

    sub = live_container.billing.load(Subscription, billed.subscriptions[0], billed.ws.tenant_id)
    assert sub.plan_id == billed.plans["basic"]  # this period stays on the old plan
    assert (
        sub.pending_plan_id == billed.plans["fast"]
        and sub.pending_from.isoformat() == approved["effective_from"]
    )
    assert sub.pending_from > date.today()
    assert (
        client.post(f"/api/v1/portal/plan-change/{req['id']}/approve", headers=as_("manager")).status_code
        == 409
    )
    me = client.get("/api/v1/portal/me", headers=as_("customer")).json()
    assert me["plan"]["pending_plan_id"] == billed.plans["fast"]


def test_data_export(client: Any, as_: Any, billed: Billed):
    client.post(
        "/api/v1/portal/tickets", headers=as_("customer"), json={"title": "Dúvida", "description": "x"}
    )
    r = client.get("/api/v1/portal/data-export", headers=as_("customer"))
    assert r.status_code == 200
    data = r.json()
    assert data["customer"]["id"] == billed.ws.customers[0] and data["customer"]["email"] == "c0@a.test"
    assert [i["id"] for i in data["invoices"]] == [billed.invoices[0]]
    assert [t["title"] for t in data["tickets"]] == ["Dúvida"]


def _key(client: Any, as_: Any, scopes: list[str]) -> dict[str, str]:
    r = client.post("/api/v1/api-keys", headers=as_("admin"), json={"name": "NAS bridge", "scopes": scopes})
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["key"]}


def record(**extra: Any) -> dict[str, Any]:
    return {
        "username": "joao.pppoe",
        "session_id": "81000001",
        "start": "2026-12-01T08:00:00-03:00",
        "stop": None,
        "input_octets": 1000,
        "output_octets": 200,
        "framed_ip": "100.64.1.7",
        "terminate_cause": "",
        **extra,
    }


def test_accounting_push_and_connections(client: Any, as_: Any, billed: Billed):
    ws = billed.ws
    r = client.patch(
        f"/api/v1/customers/{ws.customers[0]}", headers=as_("admin"), json={"radius_username": "joao.pppoe"}
    )
    assert r.status_code == 200, r.text
    key = _key(client, as_, ["network:write"])
    assert (
        client.post(
            "/api/v1/network/accounting",
            headers=_key(client, as_, ["customers:read"]),
            json={"records": [record()]},
        ).status_code
        == 403
    )
    r = client.post("/api/v1/network/accounting", headers=key, json={"records": [record(start="yesterday")]})
    assert r.status_code == 422 and "records[0].start" in r.text
    # start, an interim update and the stop of one session, plus a session of an unknown login
    r = client.post("/api/v1/network/accounting", headers=key, json={"records": [record()]})
    assert r.status_code == 202 and r.json()["recorded"] == 1
    r = client.post(
        "/api/v1/network/accounting",
        headers=key,
        json={
            "records": [
                record(input_octets=5000, output_octets=900),
                record(username="ninguem", session_id="x"),
            ]
        },
    )
    assert r.status_code == 202 and r.json()["unmatched"] == ["ninguem"]
    stop = record(
        stop="2026-12-01T10:30:00-03:00",
        input_octets=9000,
        output_octets=1500,
        terminate_cause="User-Request",
    )
    assert (
        client.post("/api/v1/network/accounting", headers=key, json={"records": [stop]}).json()["recorded"]
        == 1
    )
    again = client.post("/api/v1/network/accounting", headers=key, json={"records": [stop]}).json()
    assert again["recorded"] == 0 and again["unchanged"] == 1

    r = client.get("/api/v1/portal/connections?from=2026-12-01&to=2026-12-02", headers=as_("customer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    s = body["items"][0]
    assert (
        s["session_id"],
        s["input_octets"],
        s["output_octets"],
        s["duration"],
        s["framed_ip"],
        s["terminate_cause"],
    ) == ("81000001", 9000, 1500, 9000, "100.64.1.7", "User-Request")
    assert [(d["day"], d["input_octets"]) for d in body["daily"]] == [("2026-12-01", 9000), ("2026-12-02", 0)]
    assert (
        client.get(
            "/api/v1/portal/connections?from=2026-12-01&to=2026-12-02", headers=as_("customer2")
        ).json()["total"]
        == 0
    )
    assert (
        client.get(
            "/api/v1/portal/connections?from=2026-12-03&to=2026-12-01", headers=as_("customer")
        ).status_code
        == 422
    )
