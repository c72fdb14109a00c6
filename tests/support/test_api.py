"""The support API over HTTP with real logins: contract fields, permissions, customer scoping,
409 problems, attachments and settings."""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _open(client, headers, ws, **over):
    body = {"customer_id": ws.customers[0], "title": "Sem internet", "description": "Caiu às 8h",
            "priority": "high", "channel": "phone", **over}
    r = client.post("/api/v1/support/tickets", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_open_read_assign_comment_resolve_close_and_history(client, ws, as_):
    # Given a technician who opens a ticket for a customer
    t = _open(client, as_("tech"), ws)
    assert t["number"] == "T-000001" and t["status"] == "open"
    assert t["first_response_due"] and t["resolution_due"] and t["id"]
    assert _open(client, as_("tech"), ws)["number"] == "T-000002"
    # When they assign it to themselves ("assign to me") and a colleague reassigns it
    r = client.post(f"/api/v1/support/tickets/{t['id']}/assign", headers=as_("tech"), json={"assignee_id": "me"})
    assert r.status_code == 200 and r.json()["assignee_id"] == ws.users["tech"]
    r = client.post(f"/api/v1/support/tickets/{t['id']}/assign", headers=as_("manager"),
                    json={"assignee_id": ws.users["tech2"]})
    assert r.json()["assignee_id"] == ws.users["tech2"]
    # And they write an internal note and a public reply
    for body, visibility in (("ONU sem sinal", "internal"), ("Estamos verificando", "public")):
        r = client.post(f"/api/v1/support/tickets/{t['id']}/comments", headers=as_("tech2"),
                        json={"body": body, "visibility": visibility})
        assert r.status_code == 201, r.text
    one = client.get(f"/api/v1/support/tickets/{t['id']}", headers=as_("tech")).json()
    assert [c["visibility"] for c in one["comments"]] == ["internal", "public"]
    assert one["first_response_at"] is not None and one["sla"]["first_response"]["met_at"]
    # Then resolve and close are allowed, and closing again is a 409 problem
    for status in ("in_progress", "resolved", "closed"):
        r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech2"),
                        json={"status": status, "reason": "done"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech2"),
                    json={"status": "closed", "reason": "again"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert one["resolution_due"] is not None
    # And the history lists every event
    history = client.get(f"/api/v1/audit/aggregates/{t['id']}", headers=as_("admin")).json()
    types = [e["type"] for e in history["events"]]
    assert types[0] == "Ticket.Opened" and types.count("Ticket.CommentAdded") == 2 and "Ticket.Assigned" in types


def test_illegal_transitions_are_409_and_change_nothing(client, ws, as_):
    t = _open(client, as_("tech"), ws)
    r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech"),
                    json={"status": "closed", "reason": "never resolved"})
    assert r.status_code == 409 and r.json()["status"] == 409 and r.json()["field"] == "status"
    assert client.get(f"/api/v1/support/tickets/{t['id']}", headers=as_("tech")).json()["version"] == t["version"]
    client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech"), json={"status": "resolved"})
    client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech"), json={"status": "closed"})
    r = client.post(f"/api/v1/support/tickets/{t['id']}/comments", headers=as_("tech"),
                    json={"body": "late", "visibility": "public"})
    assert r.status_code == 409
    assert client.get(f"/api/v1/support/tickets/{t['id']}", headers=as_("tech")).json()["comments"] == []


@pytest.mark.parametrize("body,field", [
    ({"priority": "urgent"}, "priority"),
    ({"channel": "fax"}, "channel"),
    ({"title": ""}, "title"),
    ({"category": "Nope"}, "category"),
])
def test_bad_input_is_422_naming_the_field_and_takes_no_number(client, ws, as_, body, field):
    base = {"customer_id": ws.customers[0], "title": "x", "priority": "low", "channel": "api", **body}
    r = client.post("/api/v1/support/tickets", headers=as_("tech"), json=base)
    assert r.status_code == 422 and r.json()["field"] == field
    assert _open(client, as_("tech"), ws)["number"] == "T-000001"


def test_customer_sees_only_own_tickets_and_public_comments(client, ws, as_):
    # Given tickets of two customers, one with an internal note
    mine = _open(client, as_("tech"), ws)
    theirs = _open(client, as_("tech"), ws, customer_id=ws.customers[1])
    client.post(f"/api/v1/support/tickets/{mine['id']}/comments", headers=as_("tech"),
                json={"body": "customer is rude", "visibility": "internal"})
    client.post(f"/api/v1/support/tickets/{mine['id']}/comments", headers=as_("tech"),
                json={"body": "we are on it", "visibility": "public"})
    me = client.get("/api/v1/me", headers=as_("customer")).json()
    assert {"id", "email", "role"} <= set(me) and me["role"] == "customer"
    # Then the portal user lists and reads only their own, without internal notes
    listed = client.get("/api/v1/support/tickets", headers=as_("customer")).json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]] and listed["total"] == 1
    one = client.get(f"/api/v1/support/tickets/{mine['id']}", headers=as_("customer")).json()
    assert [c["body"] for c in one["comments"]] == ["we are on it"]
    assert client.get(f"/api/v1/support/tickets/{theirs['id']}", headers=as_("customer")).status_code == 404
    assert client.get(f"/api/v1/support/tickets?customer={ws.customers[1]}",
                      headers=as_("customer")).json()["total"] == 0
    # And may open a ticket for themselves only, comment publicly, never internally
    own = _open(client, as_("customer"), ws, channel="portal")
    assert own["customer_id"] == ws.customers[0]
    r = client.post("/api/v1/support/tickets", headers=as_("customer"), json={
        "customer_id": ws.customers[1], "title": "x", "priority": "low", "channel": "portal"})
    assert r.status_code == 404
    r = client.post(f"/api/v1/support/tickets/{mine['id']}/comments", headers=as_("customer"),
                    json={"body": "psst", "visibility": "internal"})
    assert r.status_code == 422 and r.json()["field"] == "visibility"
    # And staff-only commands and history are forbidden
    assert client.post(f"/api/v1/support/tickets/{mine['id']}/assign", headers=as_("customer"),
                       json={"assignee_id": "me"}).status_code == 403
    assert client.get(f"/api/v1/audit/aggregates/{mine['id']}", headers=as_("customer")).status_code in (403, 404)
    assert client.put("/api/v1/support/sla-policies", headers=as_("customer"), json={}).status_code == 403


def test_customer_reopens_a_resolved_ticket_but_cannot_work_it(client, ws, as_):
    t = _open(client, as_("customer"), ws, channel="portal")
    r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("customer"),
                    json={"status": "resolved"})
    assert r.status_code == 409
    client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech"), json={"status": "resolved"})
    r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("customer"),
                    json={"status": "reopened", "reason": "still down"})
    assert r.status_code == 200 and r.json()["status"] == "reopened"


def test_roles_without_support_permissions_are_refused(client, ws, as_):
    t = _open(client, as_("tech"), ws)
    assert client.get("/api/v1/support/tickets", headers=as_("finance")).status_code == 403
    # the auditor reads (with internal notes) but cannot write
    assert client.get(f"/api/v1/support/tickets/{t['id']}", headers=as_("auditor")).status_code == 200
    assert client.post(f"/api/v1/support/tickets/{t['id']}/comments", headers=as_("auditor"),
                       json={"body": "x"}).status_code == 403


def test_only_staff_who_may_work_tickets_can_be_assigned(client, ws, as_):
    t = _open(client, as_("tech"), ws)
    for who in ("finance", "customer", "auditor"):
        r = client.post(f"/api/v1/support/tickets/{t['id']}/assign", headers=as_("manager"),
                        json={"assignee_id": ws.users[who]})
        assert r.status_code == 422 and r.json()["field"] == "assignee_id", who
    assert client.post(f"/api/v1/support/tickets/{t['id']}/assign", headers=as_("manager"),
                       json={"assignee_id": None}).status_code == 200


def test_list_filters_queues_and_pagination(client, ws, as_):
    a = _open(client, as_("tech"), ws, priority="critical")
    _open(client, as_("tech"), ws, priority="low", customer_id=ws.customers[1])
    client.post(f"/api/v1/support/tickets/{a['id']}/assign", headers=as_("tech"), json={"assignee_id": "me"})
    get = lambda q: client.get(f"/api/v1/support/tickets?{q}", headers=as_("tech")).json()  # noqa: E731
    assert get("")["total"] == 2 and get("")["page"] == 1
    assert [i["number"] for i in get("priority=critical")["items"]] == ["T-000001"]
    assert get("assignee=me")["total"] == 1 and get("assignee=none")["total"] == 1
    assert get(f"customer={ws.customers[1]}")["total"] == 1
    assert get("status=open")["total"] == 2 and get("status=closed")["total"] == 0
    assert get("sla=breached")["total"] == 0  # nothing is late yet
    page2 = get("per_page=1&page=2")
    assert (page2["total"], page2["page"], len(page2["items"])) == (2, 2, 1)
    assert client.get("/api/v1/support/tickets?sla=late", headers=as_("tech")).status_code in (400, 422)


def test_patch_changes_priority_and_recomputes_due_times(client, ws, as_):
    t = _open(client, as_("tech"), ws, priority="low")
    r = client.patch(f"/api/v1/support/tickets/{t['id']}", headers=as_("tech"),
                     json={"priority": "critical", "title": "Link caiu de novo"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["priority"], body["title"]) == ("critical", "Link caiu de novo")
    assert body["resolution_due"] < t["resolution_due"]


def test_attachments_are_sniffed_stored_by_hash_and_follow_comment_visibility(client, ws, as_, live_container):
    t = _open(client, as_("tech"), ws)
    # A PNG named .txt is stored as a PNG; an executable named .png is refused
    r = client.post(f"/api/v1/support/tickets/{t['id']}/attachments", headers=as_("tech"),
                    files={"file": ("notes.txt", io.BytesIO(PNG), "text/plain")},
                    data={"visibility": "internal", "body": "screenshot"})
    assert r.status_code == 201, r.text
    att = r.json()["comments"][-1]["attachments"][0]
    assert att["content_type"] == "image/png" and att["size"] == len(PNG)
    import hashlib

    stored = live_container.settings.var_dir / "attachments" / att["sha256"][:2] / att["sha256"][2:4] / att["sha256"]
    assert stored.read_bytes() == PNG and att["sha256"] == hashlib.sha256(PNG).hexdigest()
    r = client.post(f"/api/v1/support/tickets/{t['id']}/attachments", headers=as_("tech"),
                    files={"file": ("photo.png", io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00"), "image/png")})
    assert r.status_code == 422 and r.json()["field"] == "file"
    big = b"a" * (5 * 1024 * 1024 + 1)
    r = client.post(f"/api/v1/support/tickets/{t['id']}/attachments", headers=as_("tech"),
                    files={"file": ("big.txt", io.BytesIO(big), "text/plain")})
    assert r.status_code == 422
    # Staff download it; the customer, who may not see the internal comment, gets 404
    url = att["url"]
    d = client.get(url, headers=as_("tech2"))
    assert d.status_code == 200 and d.content == PNG and d.headers["content-type"].startswith("image/png")
    assert client.get(url, headers=as_("customer")).status_code == 404
    # A public attachment by the customer is downloadable by them
    r = client.post(f"/api/v1/support/tickets/{t['id']}/attachments", headers=as_("customer"),
                    files={"file": ("log.txt", io.BytesIO(b"sinal fraco\n"), "application/octet-stream")})
    assert r.status_code == 201
    public = r.json()["comments"][-1]["attachments"][0]
    assert public["content_type"] == "text/plain"
    assert client.get(public["url"], headers=as_("customer")).content == b"sinal fraco\n"
    assert client.get(public["url"], headers=as_("customer2")).status_code == 404


def test_sla_policies_calendar_and_categories(client, ws, as_):
    policies = client.get("/api/v1/support/sla-policies", headers=as_("manager")).json()
    assert policies["policies"]["critical"] == {"first_response_minutes": 60, "resolution_minutes": 240}
    assert policies["policies"]["low"] == {"first_response_minutes": 480, "resolution_minutes": 2880}
    new = {**policies["policies"], "critical": {"first_response_minutes": 30, "resolution_minutes": 120}}
    assert client.put("/api/v1/support/sla-policies", headers=as_("manager"),
                      json={"policies": new}).status_code == 403
    r = client.put("/api/v1/support/sla-policies", headers=as_("admin"), json={"policies": new})
    assert r.status_code == 200 and r.json()["policies"]["critical"]["first_response_minutes"] == 30
    r = client.put("/api/v1/support/sla-policies", headers=as_("admin"),
                   json={"policies": {**new, "low": {"first_response_minutes": 0, "resolution_minutes": 10}}})
    assert r.status_code == 422 and r.json()["field"] == "policies.low.first_response_minutes"
    cal = client.get("/api/v1/support/calendar", headers=as_("tech")).json()
    assert cal["hours"]["mon"] == [["08:00", "18:00"]] and cal["hours"]["sun"] == []
    assert cal["reopen_window_days"] == 7 and cal["timezone"] == "America/Sao_Paulo"
    r = client.put("/api/v1/support/calendar", headers=as_("admin"),
                   json={"holidays": ["2026-12-24"], "reopen_window_days": 3})
    assert r.status_code == 200 and r.json()["holidays"] == ["2026-12-24"]
    assert r.json()["hours"]["mon"] == [["08:00", "18:00"]]
    r = client.put("/api/v1/support/calendar", headers=as_("admin"), json={"hours": {"mon": [["25:00", "26:00"]]}})
    assert r.status_code == 422 and r.json()["field"].startswith("hours.mon")
    r = client.put("/api/v1/support/categories", headers=as_("admin"), json={"categories": ["Fibra", "Rádio"]})
    assert r.json()["categories"] == ["Fibra", "Rádio"]
    assert client.post("/api/v1/support/tickets", headers=as_("tech"), json={
        "customer_id": ws.customers[0], "title": "x", "priority": "low", "channel": "api",
        "category": "Fibra"}).status_code == 201


def test_another_tenant_gets_404(client, ws, as_, live_container):
    from tests.support.conftest import login, make_workspace

    t = _open(client, as_("tech"), ws)
    other = make_workspace(live_container, tenant="Provedor B", domain="b.test")
    headers = login(client, other.emails["admin"])
    assert client.get(f"/api/v1/support/tickets/{t['id']}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/support/tickets/{t['id']}/comments", headers=headers,
                       json={"body": "x"}).status_code == 404
    assert client.get("/api/v1/support/tickets", headers=headers).json()["total"] == 0
    # numbers are per tenant
    assert _open(client, headers, other)["number"] == "T-000001"


def test_a_customer_reply_resumes_a_ticket_waiting_for_them(client, ws, as_):
    t = _open(client, as_("tech"), ws)
    r = client.post(f"/api/v1/support/tickets/{t['id']}/status", headers=as_("tech"),
                    json={"status": "waiting_customer", "reason": "need the modem serial"})
    assert r.json()["status"] == "waiting_customer" and r.json()["sla"]["resolution"]["paused"]
    listed = client.get("/api/v1/support/tickets?sla=paused", headers=as_("tech")).json()
    assert [i["id"] for i in listed["items"]] == [t["id"]]
    r = client.post(f"/api/v1/support/tickets/{t['id']}/comments", headers=as_("customer"),
                    json={"body": "Serial ZTEG1234", "visibility": "public"})
    assert r.status_code == 201
    body = client.get(f"/api/v1/support/tickets/{t['id']}", headers=as_("tech")).json()
    assert body["status"] == "in_progress" and not body["sla"]["resolution"]["paused"]
    assert body["comments"][-1]["author_kind"] == "customer"
