"""Chromium, on a real `retaguarda serve` (migrated, seeded demo): a combined billing invoice is
issued, its NFCom appears, is authorized by the sandbox, and its DANFE-COM opens as a PDF."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import api_login, server  # noqa: F401  (session fixture)

pytestmark = pytest.mark.browser


def test_invoice_to_authorized_nfcom_to_danfecom(server, browser):  # noqa: F811
    base = server["base"]
    h = api_login(base, "admin@demo.test", server["password"])
    r = httpx.put(f"{base}/api/v1/fiscal/nfcom/settings", headers=h, json={"issue_on": "invoice_issued"})
    assert r.status_code == 200, r.text
    customer = httpx.get(f"{base}/api/v1/customers", headers=h).json()["items"][0]["id"]
    due = (date.today() + timedelta(days=10)).isoformat()
    items = [
        {"description": "Plano fibra 700 Mega", "quantity": "1", "unit_price": "139.90", "kind": "plan"},
        {"description": "Antivírus (SVA)", "quantity": "1", "unit_price": "9.90", "kind": "service"},
    ]
    r = httpx.post(
        f"{base}/api/v1/billing/invoices",
        headers=h,
        json={"customer_id": customer, "due_date": due, "items": items},
    )
    assert r.status_code == 201, r.text
    invoice_id = r.json()["id"]
    assert httpx.post(f"{base}/api/v1/billing/invoices/{invoice_id}/issue", headers=h).status_code == 200

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(30000)
    page.goto(f"{base}/fiscal/nfcom")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/fiscal/nfcom")
    # the invoice's NFCom shows up (the worker created and sent it)
    docs: dict = {}
    for _ in range(150):
        docs = httpx.get(f"{base}/api/v1/fiscal/invoices/{invoice_id}/documents", headers=h).json()
        if docs["nfcom"] and docs["nfse"]:
            break
        page.wait_for_timeout(200)
    assert docs["nfcom"] and docs["nfse"], docs
    page.goto(f"{base}/fiscal/nfcom")
    page.locator(f"a[href='/fiscal/nfcom/{docs['nfcom']['id']}']").click()
    page.locator("[data-testid=nfcom-panel][data-status=authorized]").wait_for()
    assert len(page.locator("[data-testid=access-key]").inner_text().strip()) == 44
    assert page.locator("[data-testid=invoice-link]").is_visible()
    assert page.locator("[data-testid=sibling-nfse]").is_visible()
    href = page.locator("[data-testid=danfecom]").get_attribute("href")
    response = page.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
    page.close()
