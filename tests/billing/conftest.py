"""Billing tests: fixtures for a logged-in admin and a customer."""

from __future__ import annotations

from typing import Any

import pytest

PASSWORD = "a long enough password"


def signup(client: Any, tenant: str, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/signup", json={"tenant_name": tenant, "name": "Admin", "email": email,
                                                 "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def admin(client: Any) -> dict[str, str]:
    return signup(client, "Provedor A", "admin@a.test")


@pytest.fixture
def customer_id(client: Any, admin: dict[str, str]) -> str:
    r = client.post("/api/v1/customers", headers=admin, json={
        "name": "ACME Telecom", "kind": "company", "document": "12.ABC.345/01DE-35", "email": "fin@acme.test"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


PIX_SETTINGS = {"pix_key": "financeiro@a.test", "merchant_name": "Provedor A", "merchant_city": "Sao Paulo",
                "boleto_bank": "001", "boleto_agreement": "1234567", "boleto_wallet": "17"}
