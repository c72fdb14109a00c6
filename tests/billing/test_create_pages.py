"""Everyday screens: an invoice and a subscription created from the UI (customer search, items typed
the Brazilian way, errors next to their fields, nothing written on bad input)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.billing.conftest import PIX_SETTINGS

pytestmark = pytest.mark.e2e


def _token(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_an_invoice_is_created_and_issued_from_the_page(client, admin, customer_id, live_container):
    assert client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS).status_code == 200
    # The customer search finds the customer by a part of the name, blocked or not
    found = client.get("/customers/picker", params={"q": "acme"}, headers=admin).text
    assert f'value="{customer_id}"' in found
    form = client.get(f"/billing/invoices/new?customer={customer_id}", headers=admin)
    assert form.status_code == 200 and f'value="{customer_id}"' in form.text
    token = _token(form.text)
    # Bad input: errors next to the fields, nothing written
    head = live_container.store.head()
    bad = client.post("/billing/invoices/new", headers=admin, data={
        "_csrf_token": token, "due_date": "2026-12-20", "items-0-description": "",
        "items-0-quantity": "1", "items-0-unit_price": "abc"})
    assert bad.status_code == 422
    assert 'data-testid="error-customer_id"' in bad.text
    assert 'data-testid="error-items[0].unit_price"' in bad.text
    assert live_container.store.head() == head
    # Two items typed in Brazilian format, issued at once
    r = client.post("/billing/invoices/new", headers=admin, follow_redirects=False, data={
        "_csrf_token": token, "customer_id": customer_id, "due_date": "2026-12-20", "issue": "on",
        "items-0-description": "Instalação", "items-0-quantity": "1", "items-0-unit_price": "1.234,56",
        "items-1-description": "Roteador", "items-1-quantity": "2", "items-1-unit_price": "10,50",
        "items-2-description": "", "items-2-quantity": "", "items-2-unit_price": "", "discount": "5,06"})
    assert r.status_code in (302, 303), r.text[:500]
    invoice_id = r.headers["location"].rsplit("/", 1)[-1]
    inv = client.get(f"/api/v1/billing/invoices/{invoice_id}", headers=admin).json()
    # 1.234,56 + 2 x 10,50 - 5,06
    assert inv["status"] == "issued" and Decimal(inv["total"]) == Decimal("1250.50")
    assert [i["description"] for i in inv["items"]] == ["Instalação", "Roteador"]
    assert inv["pix"]["brcode"]
    page = client.get(f"/billing/invoices/{invoice_id}", headers=admin).text
    assert 'data-testid="pix-brcode"' in page and 'data-testid="copy-boleto"' in page
    # Paid: the page no longer offers PIX or boleto (defect 9)
    paid = client.post(f"/api/v1/billing/invoices/{invoice_id}/payments", headers=admin,
                       json={"amount": inv["amount_due"], "method": "pix"})
    assert paid.status_code in (200, 201) and paid.json()["status"] == "paid", paid.text
    page = client.get(f"/billing/invoices/{invoice_id}", headers=admin).text
    assert 'data-testid="pix-brcode"' not in page and 'data-testid="boleto-line"' not in page
    assert 'data-testid="pix-qr"' not in page


def test_a_subscription_is_created_from_the_page_and_shows_on_the_customer(client, admin, customer_id):
    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra 300M", "price": "99.90", "cycle": "monthly"}).json()
    form = client.get(f"/billing/subscriptions/new?customer={customer_id}", headers=admin)
    assert form.status_code == 200 and "Fibra 300M" in form.text
    bad = client.post("/billing/subscriptions/new", headers=admin, data={
        "_csrf_token": _token(form.text), "customer_id": customer_id, "plan_id": "", "due_day": "31",
        "start_date": "2026-12-01"})
    assert bad.status_code == 422
    assert 'data-testid="error-plan_id"' in bad.text and 'data-testid="error-due_day"' in bad.text
    r = client.post("/billing/subscriptions/new", headers=admin, follow_redirects=False, data={
        "_csrf_token": _token(form.text), "customer_id": customer_id, "plan_id": plan["id"], "due_day": "10",
        "start_date": "2026-12-01"})
    assert r.status_code in (302, 303) and r.headers["location"].startswith(f"/customers/{customer_id}")
    subs = client.get("/api/v1/billing/subscriptions", params={"customer": customer_id}, headers=admin).json()
    assert [s["plan_name"] for s in subs["items"]] == ["Fibra 300M"]
    assert "Fibra 300M" in client.get(f"/customers/{customer_id}", headers=admin).text


def test_lists_have_new_buttons_and_invoices_filter_by_customer_name(client, admin, customer_id):
    client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-12-10",
        "items": [{"description": "Plano", "quantity": "1", "unit_price": "10.00"}]})
    listing = client.get("/billing/invoices", params={"customer_q": "ACME"}, headers=admin).text
    assert 'data-testid="new-invoice"' in listing and "ACME Telecom" in listing and "invoice-table" in listing
    none = client.get("/billing/invoices", params={"customer_q": "Ninguém"}, headers=admin).text
    assert 'data-testid="empty-state"' in none
    assert 'data-testid="new-subscription"' in client.get("/billing/subscriptions", headers=admin).text
