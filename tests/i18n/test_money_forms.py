"""Defect 6 of issue 13: forms take money as Brazilians type it (1.500,00), and an unreadable amount
is an inline Portuguese error naming the field, with nothing saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from retaguarda.seed import seed_demo
from tests.i18n.test_locale_pages import bearer, session_login

pytestmark = pytest.mark.e2e


@pytest.fixture
def office(live_container: Any, client: Any) -> tuple[Any, dict[str, str], dict[str, str]]:
    seed_demo(live_container)
    live_container.wait_for(live_container.store.head(), timeout=20)
    api = bearer(client, "admin@demo.test", live_container.settings.demo_password)
    csrf = session_login(client, "admin@demo.test", live_container.settings.demo_password)
    return client, api, csrf


def test_nfse_form_takes_brazilian_amounts(office: Any) -> None:
    client, api, csrf = office
    customer = client.get("/api/v1/customers?status=active", headers=api).json()["items"][0]
    form = {"customer_id": customer["id"], "service.code": "010701", "service.nbs": "115013000",
            "service.description": "Suporte técnico mensal", "amount": "1.500,00", "deductions": "0,00",
            "competence": "2026-11-01", "iss_rate": "2,00"}
    before = client.get("/api/v1/fiscal/nfse?per_page=200", headers=api).json()["total"]
    bad = client.post("/fiscal/nfse/new", data={**form, "amount": "mil e quinhentos"}, headers=csrf)
    assert bad.status_code == 422
    assert "Valor (R$): “mil e quinhentos” não é um valor (ex.: 1.234,56)." in bad.text
    assert 'data-testid="error-amount"' in bad.text
    assert client.get("/api/v1/fiscal/nfse?per_page=200", headers=api).json()["total"] == before
    ok = client.post("/fiscal/nfse/new", data=form, headers=csrf, follow_redirects=False)
    assert ok.status_code in (302, 303), ok.text[:500]
    note_id = ok.headers["location"].split("/fiscal/nfse/")[1].split("?")[0]
    note = client.get(f"/api/v1/fiscal/nfse/{note_id}", headers=api).json()
    assert Decimal(note["amount"]) == Decimal("1500.00") and Decimal(note["iss_rate"]) == Decimal("2.00")
    page = client.get(f"/fiscal/nfse/{note_id}", headers=api).text
    assert "R$\xa01.500,00" in page
    preview = client.post("/fiscal/preview", data={**form, "amount": "1.500,00"}, headers=csrf).text
    assert "R$\xa030,00" in preview  # ISS 2 % of 1.500,00


def test_payment_form_takes_brazilian_amounts(office: Any) -> None:
    client, api, csrf = office
    invoices = client.get("/api/v1/billing/invoices?status=overdue", headers=api).json()["items"]
    invoices = invoices or client.get("/api/v1/billing/invoices?status=issued", headers=api).json()["items"]
    invoice = invoices[0]
    bad = client.post(f"/billing/invoices/{invoice['id']}/action",
                      data={"action": "pay", "amount": "12,3,4", "method": "pix"}, headers=csrf)
    assert bad.status_code == 200 and "Valor: “12,3,4” não é um valor (ex.: 1.234,56)." in bad.text
    assert client.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=api).json()["payments"] == \
        invoice.get("payments", [])
    done = client.post(f"/billing/invoices/{invoice['id']}/action",
                       data={"action": "pay", "amount": "1.234,56", "method": "pix"}, headers=csrf)
    assert done.status_code == 200
    payments = client.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=api).json()["payments"]
    assert [p["amount"] for p in payments][-1] == "1234.56"
    assert "R$\xa01.234,56" in done.text
