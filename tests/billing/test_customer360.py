"""Customer 360 and one plan source (defect 8): the customer page shows the billing subscription's
plan, invoices with the open balance and the "new …" actions; the list's Plan column comes from
the subscription too, and the customer form has no free-text plan any more."""

from __future__ import annotations

import re

import pytest

from tests.billing.conftest import PIX_SETTINGS

pytestmark = pytest.mark.e2e


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<article class="c360-card" data-testid="{testid}">(.*?)</article>', html, re.S)
    assert match, f"no {testid} section"
    return match.group(1)


def test_the_customer_page_shows_plan_invoices_balance_and_new_actions(client, admin, customer_id):
    page = client.get(f"/customers/{customer_id}", headers=admin).text
    assert 'data-testid="c360-no-plan"' in _section(page, "c360-plan")
    assert f'/billing/subscriptions/new?customer={customer_id}' in page
    assert f'/billing/invoices/new?customer={customer_id}' in page
    assert f'/support/tickets/new?customer={customer_id}' in page
    assert f'/fiscal/nfse/new?customer_id={customer_id}' in page
    assert 'data-testid="c360-cnpj"' in page  # a company: its CNPJ status has a place

    assert client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS).status_code == 200
    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra 500M", "price": "129.90", "cycle": "monthly"}).json()
    r = client.post("/api/v1/billing/subscriptions", headers=admin, json={
        "customer_id": customer_id, "plan_id": plan["id"], "due_day": 10, "start_date": "2026-11-10"})
    assert r.status_code == 201, r.text
    inv = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-12-20",
        "items": [{"description": "Instalação", "quantity": "1", "unit_price": "150.00"}]}).json()
    assert client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin).status_code in (200, 201)

    page = client.get(f"/customers/{customer_id}", headers=admin).text
    assert "Fibra 500M" in _section(page, "c360-plan")
    invoices = _section(page, "c360-invoices")
    assert f'/billing/invoices/{inv["id"]}' in invoices
    assert re.search(r'data-testid="c360-balance">R\$\s150,00<', invoices), invoices
    listing = client.get("/customers", headers=admin).text
    assert "Fibra 500M" in listing, "the list's plan is the subscription's"
    form = client.get(f"/customers/{customer_id}/edit", headers=admin).text
    assert 'name="plan"' not in form


def test_the_customer_page_shows_contracts_and_service_orders_with_new_actions(client, admin, customer_id):
    from retaguarda.contracts.defaults import DEFAULT_TEMPLATE

    page = client.get(f"/customers/{customer_id}", headers=admin).text
    assert "c360-new-contract" in _section(page, "c360-contracts")
    assert f'/contracts/new?customer={customer_id}' in page
    assert f'/field/orders/new?customer={customer_id}' in _section(page, "c360-orders")
    assert "/contracts/" not in _section(page, "c360-contracts").replace("/contracts/new", "")

    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra 700M", "price": "159.90", "cycle": "monthly"}).json()
    template = client.post("/api/v1/contracts/templates", headers=admin,
                           json={"name": "Padrão", "body": DEFAULT_TEMPLATE})
    assert template.status_code == 201, template.text
    r = client.post("/api/v1/contracts", headers=admin, json={
        "customer_id": customer_id, "plan_id": plan["id"], "template_id": template.json()["id"],
        "start_date": "2026-12-01", "loyalty_months": 12, "auto_renew": False})
    assert r.status_code == 201, r.text
    contract = r.json()
    r = client.post("/api/v1/field/orders", headers=admin, json={
        "customer_id": customer_id, "kind": "installation", "description": "Fibra 700M"})
    assert r.status_code == 201, r.text
    order = r.json()

    page = client.get(f"/customers/{customer_id}", headers=admin).text
    contracts = _section(page, "c360-contracts")
    assert f'/contracts/{contract["id"]}"' in contracts and contract["number"] in contracts
    assert "Fibra 700M" in contracts and re.search(r"R\$\s159,90", contracts), contracts
    assert "30/11/2027" in contracts or "01/12/2027" in contracts, contracts  # 12 months' loyalty
    orders = _section(page, "c360-orders")
    assert f'/field/orders/{order["id"]}"' in orders and str(order["number"]) in orders, orders
