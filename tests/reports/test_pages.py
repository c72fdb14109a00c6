"""The home dashboard shows the reports overview by permission; the reports pages render, sort and
page."""

from __future__ import annotations

from typing import Any

from tests.reports.conftest import ADMIN, customer, settle


def test_home_shows_money_to_finance_and_not_to_technicians(client: Any, live_container: Any) -> None:
    customer(live_container, 0)
    settle(live_container)
    admin = client.get("/", headers=ADMIN).text
    assert 'data-testid="kpi-overview"' in admin and 'data-testid="kpi-revenue"' in admin
    assert 'data-testid="chart-revenue"' in admin and 'data-testid="alert-invoices_overdue"' in admin
    finance = client.get("/", headers={"x-test-role": "finance@tenant-a"}).text
    assert 'data-testid="kpi-revenue"' in finance and 'data-testid="kpi-open_tickets"' not in finance
    tech = client.get("/", headers={"x-test-role": "technician@tenant-a"}).text
    assert 'data-testid="kpi-open_tickets"' in tech and 'data-testid="kpi-orders_pending"' in tech
    assert 'data-testid="kpi-revenue"' not in tech and 'data-testid="chart-revenue"' not in tech


def test_report_pages_sort_page_and_link_exports(client: Any, live_container: Any) -> None:
    for i in range(3):
        customer(live_container, i)
    settle(live_container)
    index = client.get("/reports", headers=ADMIN)
    assert index.status_code == 200 and "/reports/view/customers" in index.text
    page = client.get("/reports/view/customers?sort=-name", headers=ADMIN).text
    assert page.index("Cliente 2") < page.index("Cliente 0")
    assert "format=xlsx" in page and "format=pdf" in page and "format=csv" in page
    bad = client.get("/reports/view/customers?created_from=x", headers=ADMIN)
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    assert client.get("/reports/view/billing", headers={"x-test-role": "technician@tenant-a"}).status_code == 403
