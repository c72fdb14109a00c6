"""Field pages with a session cookie: list, new order (errors name the field), order page with
scheduling, the technician's day, the board and the notification inbox."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.conftest import PASSWORD, Workspace

pytestmark = pytest.mark.e2e
DAY = "2026-12-08"


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client: Any, email: str) -> None:
    page = client.get("/login?next=/")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/",
                                    "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_manager_opens_and_schedules_an_order_and_the_technician_sees_it(client: Any, ws: Workspace):
    _login(client, ws.emails["manager"])
    assert "OS-" not in client.get("/field/orders").text
    form = client.get("/field/orders/new").text
    token = _csrf(form)
    r = client.post("/field/orders/new", data={"_csrf_token": token, "customer_id": "", "kind": "repair"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = client.post("/field/orders/new", data={"_csrf_token": token, "customer_id": ws.customers[0],
                                               "kind": "installation", "priority": "high",
                                               "description": "Fibra 300M"}, follow_redirects=False)
    assert r.status_code in (302, 303)
    url = r.headers["location"].split("?")[0]
    page = client.get(url).text
    assert "OS-000001" in page and 'data-testid="schedule-form"' in page
    r = client.post(f"{url}/schedule", data={"_csrf_token": _csrf(page), "technician_id": ws.users["tech"],
                                             "date": DAY, "start": "09:00", "end": "10:30"}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    page = client.get(url).text
    assert "08/12/2026 09:00" in page
    # a clash is refused on the page, naming the problem, and nothing changes
    r2 = client.post("/field/orders/new", data={"_csrf_token": token, "customer_id": ws.customers[1],
                                                "kind": "repair"}, follow_redirects=False)
    url2 = r2.headers["location"].split("?")[0]
    r = client.post(f"{url2}/schedule", data={"_csrf_token": token, "technician_id": ws.users["tech"],
                                              "date": DAY, "start": "10:00", "end": "11:00"})
    assert r.status_code == 409 and 'class="flash error"' in r.text
    board = client.get(f"/field/board?date={DAY}").text
    assert "OS-000001" in board and "OS-000002" in board  # one in a lane, one waiting
    assert client.get(f"/field/orders?status=&date={DAY}").text.count("OS-00000") == 1

    client.cookies.clear()
    _login(client, ws.emails["tech"])
    day = client.get(f"/field/agenda?date={DAY}").text
    assert 'data-testid="visit-OS-000001"' in day and "Fibra 300M" in day
    r = client.post(f"{url}/start", data={"_csrf_token": _csrf(day), "back": f"/field/agenda?date={DAY}"},
                    follow_redirects=False)
    assert r.status_code in (302, 303)
    day = client.get(f"/field/agenda?date={DAY}").text
    assert "data-complete-form" in day and 'data-testid="signature-pad"' in day
    r = client.post(f"{url}/complete", json={"checklist": [{"item": "Speed test done", "done": True}],
                                             "materials": [], "notes": "ok"},
                    headers={"x-csrftoken": _csrf(day), "Idempotency-Key": "k-1"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    r = client.post(f"{url}/complete", json={"notes": "again"},
                    headers={"x-csrftoken": _csrf(day), "Idempotency-Key": "k-1"})
    assert r.status_code == 200
    assert client.get("/notifications").status_code == 200
