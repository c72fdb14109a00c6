"""The executive dashboard and the reports pages in Chromium on the seeded demo, at 1366×900 and
390×844: the KPI cards, the 12-month chart (with its numbers for screen readers) and the alerts
show, nothing scrolls sideways and the console stays clean."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
WIDE = """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right >
    document.documentElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' '
    + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("size", list(SIZES))
def test_dashboard_and_reports_fit_and_log_no_error(server: dict[str, Any], browser: Any, tmp_path: Path,
                                                    size: str) -> None:
    base = server["base"]
    shots = Path(os.environ.get("RETAGUARDA_SCREENSHOTS") or tmp_path)
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{base}/")
        page.fill("input[name=email]", "admin@demo.test")
        page.fill("input[name=password]", server["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=kpi-overview]")
        assert page.locator("[data-testid=kpi-active_customers] .num").inner_text().strip() != ""
        assert page.locator("[data-testid=kpi-revenue]").count() == 1
        assert page.locator("[data-testid=chart-revenue] svg rect").count() == 12
        assert page.locator("#chart-active_customers-table tbody tr").count() == 12
        assert page.locator("[data-testid=alert-invoices_overdue] a").get_attribute("href").startswith("/billing")
        page.screenshot(path=str(shots / f"reports-dashboard-{size}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(WIDE)
        for path in ("/reports", "/reports/view/customers", "/reports/view/billing", "/reports/view/churn"):
            page.goto(f"{base}{path}")
            page.wait_for_selector("main h1")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.locator("[data-testid=report-table] tbody tr").count() == 12  # churn: 12 months
        page.screenshot(path=str(shots / f"reports-churn-{size}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
