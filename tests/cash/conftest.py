"""Cash tests: a logged-in admin with billing (PIX + BB boleto), a customer, a bank account."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.billing.conftest import PIX_SETTINGS, signup

CPF = "52998224725"


@pytest.fixture
def admin(client: Any) -> dict[str, str]:
    h = signup(client, "Provedor Caixa", "admin@caixa.test")
    r = client.patch("/api/v1/billing/settings", headers=h, json=PIX_SETTINGS)
    assert r.status_code == 200, r.text
    return h


@pytest.fixture
def customer_id(client: Any, admin: dict[str, str]) -> str:
    r = client.post(
        "/api/v1/customers",
        headers=admin,
        json={"name": "José da Conceição", "kind": "person", "document": CPF, "email": "jose@cliente.test"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def account_id(client: Any, admin: dict[str, str]) -> str:
    r = client.post(
        "/api/v1/cash/accounts",
        headers=admin,
        json={
            "name": "BB movimento",
            "bank": "001",
            "agency": "1234-5",
            "number": "12345-6",
            "opening_balance": "1000.00",
            "opening_date": "2026-11-01",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def issued_invoice(client: Any, admin: dict[str, str], customer_id: str) -> Callable[..., dict[str, Any]]:
    def make(price: str = "149.90", due: str = "2026-12-10") -> dict[str, Any]:
        r = client.post(
            "/api/v1/billing/invoices",
            headers=admin,
            json={
                "customer_id": customer_id,
                "due_date": due,
                "items": [{"description": "Plano Fibra 300M", "quantity": "1", "unit_price": price}],
            },
        )
        assert r.status_code == 201, r.text
        inv = r.json()
        r = client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin)
        assert r.status_code == 200, r.text
        return dict(client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json())

    return make


def upload(
    client: Any, headers: dict[str, str], account_id: str, data: bytes, name: str = "extrato.ofx", **form: str
) -> Any:
    return client.post(
        "/api/v1/cash/imports",
        headers=headers,
        files={"file": (name, data)},
        data={"account_id": account_id, **form},
    )


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
