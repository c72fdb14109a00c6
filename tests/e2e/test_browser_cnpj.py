"""A person in Chromium: add a CNPJ (inline validation first), check it now, read the report."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_add_a_target_check_it_and_see_the_report(server, browser):
    page = browser.new_page()
    page.set_default_timeout(15000)
    base = server["base"]
    # Given the admin of the demo tenant (sandbox provider) logs in and opens the watch-list
    page.goto(f"{base}/cnpj/targets")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/cnpj/targets")
    assert page.locator("[data-testid=sandbox-label]").count() == 1
    # When they type a CNPJ with wrong check digits, the form says so while they type
    page.click("[data-testid=add-target-toggle]")
    page.fill("[data-testid=cnpj-input]", "55.667.788/0001-00")
    page.wait_for_selector("[data-testid=cnpj-hint] .field-error")
    assert "dígitos verificadores" in page.locator("[data-testid=cnpj-hint]").inner_text()
    # And the correct one is accepted and added
    page.fill("[data-testid=cnpj-input]", "55.667.788/0001-86")
    page.wait_for_selector("[data-testid=cnpj-hint] .hint-ok")
    page.fill("[data-testid=label-input]", "Fornecedor de fibra")
    page.click("[data-testid=add-target-submit]")
    page.wait_for_url(re.compile(r"/cnpj/targets/[0-9a-f-]{36}(\?created=1)?$"))
    assert page.locator("[data-testid=no-snapshot]").count() == 1
    # When they check it now, the progress shows and the page reloads with the snapshot
    page.click("[data-testid=check-now]")
    page.wait_for_selector("[data-testid=snapshot]")
    badge = page.locator("h1 [data-testid=situation-badge]").inner_text()
    assert badge in ("ATIVA", "SUSPENSA", "INAPTA", "BAIXADA", "NULA")
    snapshot = page.locator("[data-testid=snapshot]").inner_text()
    assert "Sócios" in snapshot and "por sandbox" in snapshot
    assert page.locator("h1 [data-testid=sandbox-label]").count() == 1
    # And the History tab lists the target's events
    page.click("[data-testid=history-tab]")
    timeline = page.locator("#history .timeline")
    timeline.wait_for()
    assert "Added" in timeline.inner_text() and "Checked" in timeline.inner_text()
