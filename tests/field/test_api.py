"""The field API as the acceptance checks call it: open, schedule (409 on overlap), start,
complete with an Idempotency-Key (once), agenda in time order, notifications, ticket link."""

from __future__ import annotations

import time
from typing import Any

from tests.support.conftest import Workspace

DAY = "2026-12-08"  # a Tuesday


def window(h1: str, h2: str) -> dict[str, str]:
    return {"start": f"{DAY}T{h1}:00-03:00", "end": f"{DAY}T{h2}:00-03:00"}


def open_order(client: Any, as_: Any, ws: Workspace, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/field/orders", headers=as_("manager"),
                    json={"customer_id": ws.customers[0], "kind": "installation",
                          "description": "Fibre 300M", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_open_schedule_overlap_and_agenda(client: Any, as_: Any, ws: Workspace):
    a = open_order(client, as_, ws)
    assert a["number"] == "OS-000001" and a["status"] == "open"
    b = open_order(client, as_, ws, kind="repair")
    tech = ws.users["tech"]
    r = client.post(f"/api/v1/field/orders/{b['id']}/schedule", headers=as_("manager"),
                    json={"technician_id": tech, **window("13:00", "14:00")})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/field/orders/{a['id']}/schedule", headers=as_("manager"),
                    json={"technician_id": tech, **window("09:00", "10:30")})
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    c = open_order(client, as_, ws, kind="visit")
    r = client.post(f"/api/v1/field/orders/{c['id']}/schedule", headers=as_("manager"),
                    json={"technician_id": tech, **window("10:00", "11:00")})
    assert r.status_code == 409
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "start" in str(problem)
    r = client.get(f"/api/v1/field/agenda?technician={tech}&date={DAY}", headers=as_("manager"))
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [a["id"], b["id"]]
    # the technician reads their own agenda; not another's
    assert client.get(f"/api/v1/field/agenda?date={DAY}", headers=as_("tech")).json()["items"][0]["id"] == a["id"]
    assert client.get(f"/api/v1/field/agenda?technician={tech}&date={DAY}",
                      headers=as_("tech2")).status_code == 404


def test_bad_input_names_the_field_and_changes_nothing(client: Any, as_: Any, ws: Workspace):
    r = client.post("/api/v1/field/orders", headers=as_("manager"),
                    json={"customer_id": ws.customers[0], "kind": "teleport", "description": ""})
    assert r.status_code == 422 and "kind" in r.text
    r = client.post("/api/v1/field/orders", headers=as_("manager"),
                    json={"customer_id": "00000000-0000-0000-0000-000000000000", "kind": "repair"})
    assert r.status_code == 422 and "customer_id" in r.text
    order = open_order(client, as_, ws)
    assert order["number"] == "OS-000001"  # refused input took no number
    r = client.post(f"/api/v1/field/orders/{order['id']}/schedule", headers=as_("manager"),
                    json={"technician_id": ws.users["customer"], **window("09:00", "10:00")})
    assert r.status_code == 422 and "technician_id" in r.text
    r = client.post(f"/api/v1/field/orders/{order['id']}/schedule", headers=as_("manager"),
                    json={"technician_id": ws.users["tech"], "start": "tomorrow", "end": "later"})
    assert r.status_code == 422 and "start" in r.text
    assert client.post("/api/v1/field/orders", headers=as_("tech"),
                       json={"customer_id": ws.customers[0], "kind": "repair"}).status_code == 403
    assert client.get("/api/v1/field/orders", headers=as_("customer")).status_code == 403


def test_complete_once_with_the_same_idempotency_key(client: Any, as_: Any, ws: Workspace, container: Any):
    order = open_order(client, as_, ws)
    oid = order["id"]
    client.post(f"/api/v1/field/orders/{oid}/schedule", headers=as_("manager"),
                json={"technician_id": ws.users["tech"], **window("09:00", "10:00")})
    assert client.post(f"/api/v1/field/orders/{oid}/start", headers=as_("tech2")).status_code == 404
    assert client.post(f"/api/v1/field/orders/{oid}/start", headers=as_("tech")).status_code == 200
    body = {"checklist": [{"item": "Signal level checked", "done": True}],
            "materials": [{"sku": "ONU-1", "description": "ONU", "quantity": "1", "serial": "ZTE1"}],
            "notes": "ok"}
    headers = {**as_("tech"), "Idempotency-Key": "visit-1-complete"}
    first = client.post(f"/api/v1/field/orders/{oid}/complete", headers=headers, json=body)
    again = client.post(f"/api/v1/field/orders/{oid}/complete", headers=headers, json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["status"] == "completed" and again.json()["version"] == first.json()["version"]
    history = client.get(f"/api/v1/audit/aggregates/{oid}", headers=as_("admin")).json()
    names = [e.get("type") or e.get("event") or e.get("name") for e in history.get("events", history.get("items", []))]
    assert sum(1 for n in names if n and n.endswith("Completed")) == 1, names
    other = client.post(f"/api/v1/field/orders/{oid}/complete", headers={**as_("tech"), "Idempotency-Key": "x"},
                        json=body)
    assert other.status_code == 409


def test_completing_a_cancelled_order_is_a_conflict(client: Any, as_: Any, ws: Workspace):
    order = open_order(client, as_, ws)
    assert client.post(f"/api/v1/field/orders/{order['id']}/cancel", headers=as_("manager"),
                       json={"reason": "duplicate"}).status_code == 200
    r = client.post(f"/api/v1/field/orders/{order['id']}/complete", headers=as_("manager"), json={})
    assert r.status_code == 409


def test_an_order_from_a_ticket_resolves_it_and_people_are_notified(client: Any, as_: Any, ws: Workspace,
                                                                     container: Any):
    r = client.post("/api/v1/support/tickets", headers=as_("manager"),
                    json={"customer_id": ws.customers[0], "title": "Sem sinal", "priority": "high",
                          "channel": "phone"})
    ticket = r.json()
    client.post(f"/api/v1/support/tickets/{ticket['id']}/assign", headers=as_("manager"),
                json={"assignee_id": ws.users["tech"]})
    r = client.post(f"/api/v1/support/tickets/{ticket['id']}/service-order", headers=as_("manager"),
                    json={"kind": "repair"})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["ticket_id"] == ticket["id"] and order["description"] == "Sem sinal"
    listed = client.get(f"/api/v1/field/orders?ticket={ticket['id']}", headers=as_("manager")).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    client.post(f"/api/v1/field/orders/{order['id']}/schedule", headers=as_("manager"),
                json={"technician_id": ws.users["tech"], **window("15:00", "16:00")})
    client.post(f"/api/v1/field/orders/{order['id']}/start", headers=as_("tech"))
    client.post(f"/api/v1/field/orders/{order['id']}/complete", headers=as_("tech"), json={"notes": "ONU trocada"})

    def resolved() -> bool:
        t = client.get(f"/api/v1/support/tickets/{ticket['id']}", headers=as_("manager")).json()
        return t["status"] == "resolved"

    assert wait_until(resolved)

    def tech_told() -> Any:
        n = client.get("/api/v1/notifications", headers=as_("tech")).json()
        return n if any(i["kind"] == "ticket_assigned" for i in n["items"]) else None

    inbox = wait_until(tech_told)
    assert inbox, client.get("/api/v1/notifications", headers=as_("tech")).json()
    assert inbox["unread"] >= 1 and {"id", "kind", "read"} <= set(inbox["items"][0])
    assigned = next(i for i in inbox["items"] if i["kind"] == "ticket_assigned")
    assert assigned["title"].count(ticket["number"]) == 1
    r = client.post(f"/api/v1/notifications/{assigned['id']}/read", headers=as_("tech"))
    assert r.status_code == 200
    assert client.post(f"/api/v1/notifications/{assigned['id']}/read", headers=as_("tech2")).status_code == 404
    customer = wait_until(lambda: [i for i in client.get("/api/v1/notifications", headers=as_("customer"))
                                   .json()["items"] if i["kind"] in ("order_scheduled", "order_completed")])
    assert {i["kind"] for i in customer} >= {"order_scheduled"}
