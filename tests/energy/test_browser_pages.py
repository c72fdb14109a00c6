"""The energy pages in Chromium on the demo server (sandbox portal): add a company, Conectar,
type a wrong then the right SMS code, see it sync, expand a unit's bills, open the plant — at
390×844 without sideways scroll and without console errors (CSP)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import server  # noqa: F401  (the session's demo server)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_connect_flow_on_a_phone(server: dict[str, Any], browser: Any) -> None:  # noqa: F811
    base, password = server["base"], server["password"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/energy")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/energy"))
    form = page.locator("[data-testid=energy-create]")
    form.locator("input[name=name]").fill("Oficina Teste")
    form.locator("input[name=document]").fill("39053344705")
    form.locator("input[name=phone_last4]").fill("1234")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/energy/accounts/"))
    page.click("[data-testid=connect]")
    page.locator("[data-testid=sms-form]").wait_for()
    assert re.fullmatch(r"[45]:\d\d", page.locator("[data-testid=sms-countdown]").inner_text())
    page.fill("[data-testid=sms-code]", "000000")
    page.click("[data-testid=sms-submit]")
    page.locator("[data-testid=energy-error]").wait_for()
    assert page.locator("[data-testid=sms-form]").count() == 1
    page.fill("[data-testid=sms-code]", "123456")
    page.click("[data-testid=sms-submit]")
    for _ in range(60):
        page.reload()
        if (
            page.locator("[data-testid=unit-4160703]").count()
            and not page.locator("#energy-status[hx-get]").count()
        ):
            break
        page.wait_for_timeout(1000)
    assert page.locator("[data-testid=account-status]").inner_text() in ("Conectado", "Connected")
    assert document_fits(page)
    unit = page.locator("[data-testid=unit-4160701]")
    unit.locator("summary").click()
    unit.locator("[data-testid=copy-pix]").wait_for()
    assert unit.locator("[data-testid=bill-pdf]").count() == 13
    assert document_fits(page)
    page.locator("[data-testid=unit-4160693]").locator("summary").click()
    page.click("[data-testid=plant-link]")
    page.locator("[data-testid=plant-keeps]").wait_for()
    assert page.locator("[data-testid=plant-keeps]").inner_text() == "10%"
    assert document_fits(page)
    page.goto(f"{base}/energy/due")
    assert document_fits(page)
    context.close()
    assert not errors, errors


def document_fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 391"))
