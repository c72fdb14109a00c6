"""Portal pages on the phone-first layout: home (plan, next invoice with PIX copy, tickets, usage),
invoices, tickets form, plan change (staff decide on /portal/requests), own data export,
connections with the server-rendered traffic chart; customers land on the portal."""

from __future__ import annotations

import re
from typing import Any

from tests.portal.conftest import Billed
from tests.support.conftest import PASSWORD


def web_login(client: Any, email: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    r = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/", "_csrf_token": token},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def csrf(client: Any, path: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def test_customer_pages(client: Any, billed: Billed, live_container: Any):
    ws = billed.ws
    web_login(client, ws.emails["customer"])
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal"
    home = client.get("/portal")
    assert home.status_code == 200
    assert 'data-testid="bottom-nav"' in home.text and "Fibra 100M" in home.text
    assert f'href="/pay/{billed.invoices[0]}/' in home.text
    assert 'data-testid="copy-pix"' in home.text and "onclick" not in home.text
    inv = client.get("/portal/invoices")
    assert f"/portal/invoices/{billed.invoices[0]}/pdf" in inv.text
    assert billed.invoices[1] not in inv.text
    assert client.get(f"/portal/invoices/{billed.invoices[0]}/pdf").content.startswith(b"%PDF")
    assert client.get(f"/portal/invoices/{billed.invoices[1]}/pdf").status_code == 404

    token = csrf(client, "/portal/tickets")
    r = client.post(
        "/portal/tickets",
        data={"title": "Sem sinal", "description": "A luz LOS está vermelha"},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Sem sinal" in client.get("/portal/tickets").text

    token = csrf(client, "/portal/plan")
    r = client.post(
        "/portal/plan",
        data={"plan_id": billed.plans["fast"]},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'data-testid="plan-request-status"' in client.get("/portal/plan").text
    export = client.get("/portal/data/export.json")
    assert export.status_code == 200 and export.json()["customer"]["id"] == ws.customers[0]

    live_container.customers.update_customer(ws.meta(), ws.customers[0], radius_username="cliente.um")
    live_container.wait_for(live_container.store.head(), timeout=10)
    live_container.portal.push_sessions(
        ws.meta(),
        [
            {
                "username": "cliente.um",
                "session_id": "s1",
                "start": "2026-11-20T10:00:00-03:00",
                "stop": "2026-11-20T12:00:00-03:00",
                "input_octets": 2_000_000,
                "output_octets": 30_000_000,
            }
        ],
    )
    live_container.wait_for(live_container.store.head(), timeout=10)
    conn = client.get("/portal/connections?from=2026-11-19&to=2026-11-21")
    assert 'data-testid="traffic-chart"' in conn.text and conn.text.count('class="bar"') == 3
    assert 'data-testid="session"' in conn.text
    # staff routes stay closed to the customer
    assert client.get("/portal/requests").status_code == 403
    assert client.get("/billing/invoices").status_code == 403
