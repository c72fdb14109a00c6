"""Energy tests: a logged-in admin of a fresh tenant (accounts use the sandbox portal by default)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.billing.conftest import signup

CPF = "52998224725"
CNPJ = "11222333000181"


@pytest.fixture
def admin(client: Any) -> dict[str, str]:
    return signup(client, "Gestora de Energia", "admin@energia.test")


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def create_account(client: Any, headers: dict[str, str], document: str = CPF, **extra: Any) -> str:
    body = {"name": "Padaria Pão Quente", "document": document, "phone_last4": "1234", **extra}
    r = client.post("/api/v1/energy/accounts", headers=headers, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "disconnected"
    return str(r.json()["id"])


def connect(client: Any, headers: dict[str, str], account_id: str, code: str = "123456") -> dict[str, Any]:
    r = client.post(f"/api/v1/energy/accounts/{account_id}/connect", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_sms"
    r = client.post(
        f"/api/v1/energy/accounts/{account_id}/sms",
        headers=headers,
        json={"transaction_id": r.json()["transaction_id"], "code": code},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def synced(client: Any, headers: dict[str, str], account_id: str) -> dict[str, Any]:
    def done() -> Any:
        body = client.get(f"/api/v1/energy/accounts/{account_id}", headers=headers).json()
        last = body.get("last_sync")
        return body if last and last["status"] != "running" else None

    return dict(wait_for(done))
