"""Isolation generated from the route table: every portal route (API and pages) a customer may
call is called by a SECOND customer with the first customer's ids → 404; list routes never show
the first customer's ids. A new route is covered automatically; a new path parameter must be
given an id of the first customer below, or this test fails."""

from __future__ import annotations

import re
from typing import Any

from retaguarda.portal.context import CONTEXT
from tests.portal.conftest import Billed
from tests.portal.test_pages import web_login

CUSTOMER_PERMISSION = "portal:self"


def _customer_routes() -> list[tuple[str, str, str]]:
    """(method, path, kind) of every route a customer may call: kind 'api' or 'page'."""
    out = []
    for kind, handlers in (("api", CONTEXT.routes), ("page", CONTEXT.pages)):
        for handler in handlers:
            permission = (handler.opt or {}).get("permission")
            allowed = permission if isinstance(permission, tuple) else (permission,)
            if CUSTOMER_PERMISSION not in allowed:
                continue
            for path in handler.paths:
                for method in handler.http_methods:
                    out.append((method, ("/api/v1" if kind == "api" else "") + path, kind))
    return sorted(out)


def test_the_route_table_has_the_portal_routes():
    paths = {p for _, p, _ in _customer_routes()}
    assert {
        "/api/v1/portal/invoices/{invoice_id:str}/pdf",
        "/api/v1/portal/tickets/{ticket_id:str}",
        "/api/v1/portal/plan-change/{request_id:str}",
        "/portal/invoices/{invoice_id:str}/pdf",
    } <= paths


def test_every_portal_route_hides_another_customers_records(
    client: Any, as_: Any, billed: Billed, live_container: Any
):
    ws = billed.ws
    first = as_("customer")
    ticket = client.post(
        "/api/v1/portal/tickets", headers=first, json={"title": "Lento", "description": "x"}
    ).json()
    req = client.post(
        "/api/v1/portal/plan-change", headers=first, json={"plan_id": billed.plans["fast"]}
    ).json()
    ids = {"invoice_id": billed.invoices[0], "ticket_id": ticket["id"], "request_id": req["id"]}
    secrets = [*ids.values(), ws.customers[0]]
    second_api = as_("customer2")
    web_login(client, ws.emails["customer2"])
    checked = 0
    for method, path, kind in _customer_routes():
        params = re.findall(r"{(\w+):\w+}", path)
        url = re.sub(r"{(\w+):\w+}", lambda m: ids[m.group(1)], path)  # KeyError: map the new parameter
        headers = second_api if kind == "api" else {}
        if params:
            r = client.request(method, url, headers=headers, json={} if method != "GET" else None)
            assert r.status_code == 404, (method, path, r.status_code)
            checked += 1
        elif method == "GET":
            r = client.get(url, headers=headers)
            assert r.status_code == 200, (path, r.status_code)
            leaked = [s for s in secrets if s in r.text]
            assert leaked == [], (path, leaked)
            checked += 1
    assert checked >= 12
