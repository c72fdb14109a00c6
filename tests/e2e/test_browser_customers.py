"""A person in Chromium: log in, create a customer with a bad then a good CNPJ, edit it, read its History."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_staff_creates_edits_and_audits_a_customer_in_the_browser(server, browser, tmp_path):
    page = browser.new_page()
    page.set_default_timeout(15000)
    base = server["base"]
    # Given the admin logs in
    page.goto(f"{base}/customers")
    assert "/login" in page.url
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers")
    # When they register a company with a CNPJ whose check digits are wrong
    page.click("[data-testid=new-customer]")
    page.fill("input[name=name]", "Padaria Pão Quente Ltda")
    page.check("input[name=kind][value=company]")
    page.fill("input[name=document]", "PQ.7R2.K5X/0001-01")
    page.fill("input[name=email]", "contato@paoquente.test")
    page.click("[data-testid=save-customer]")
    # Then the form comes back with the error next to the document field
    error = page.locator("[data-testid=error-document]")
    assert "dígitos verificadores" in error.inner_text()
    assert page.locator("input[name=name]").input_value() == "Padaria Pão Quente Ltda"
    # When they fix it and save
    page.fill("input[name=document]", "PQ.7R2.K5X/0001-00")
    page.click("[data-testid=save-customer]")
    page.wait_for_url(re.compile(r"/customers/[0-9a-f-]{36}(\?created=1)?$"))
    assert "Padaria Pão Quente Ltda" in page.locator("h1").inner_text()
    # And edit the name
    page.click("[data-testid=edit-customer]")
    page.fill("input[name=name]", "Padaria Pão Quente & Cia Ltda")
    # (app.js drops the one-shot ?saved=1 once shown: wait for the navigation, not for the query)
    with page.expect_navigation(url=re.compile(r"/customers/[0-9a-f-]{36}(\?saved=1)?$")):
        page.click("[data-testid=save-customer]")
    assert "& Cia" in page.locator("h1").inner_text()
    # Then the History tab shows both events with who and what changed
    page.click("[data-testid=history-tab]")
    timeline = page.locator("#history .timeline")
    timeline.wait_for()
    text = timeline.inner_text()
    assert "Registered" in text and "Updated" in text
    assert "admin@demo.test" in text or "Admin" in text
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)
    page.close()
