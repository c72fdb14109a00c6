"""Fixtures of the cnpj tests: the three fake providers and a live container pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import build_container
from tests.fakes.cnpj import fake_providers

PASSWORD = "a long enough password"


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    with fake_providers() as f:
        yield f


def provider_urls(fakes: dict[str, Any]) -> dict[str, str]:
    return {"cnpjws_url": fakes["cnpjws"].url, "brasilapi_url": fakes["brasilapi"].url,
            "receitaws_url": fakes["receitaws"].url}


def start(container: Any) -> Any:
    container.runner.start_thread()
    container.start_embedded()
    return container


@pytest.fixture
def live(tmp_path: Any, fakes: dict[str, Any]) -> Iterator[Any]:
    c = start(build_container(tmp_path / "var", **provider_urls(fakes)))
    yield c
    c.close()


@pytest.fixture
def api(live: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    with TestClient(create_app(live), base_url="http://127.0.0.1:8000") as tc:
        yield tc


def signup(client: Any, tenant: str, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/signup", json={"tenant_name": tenant, "name": "Admin", "email": email,
                                                 "password": PASSWORD})
    assert r.status_code == 201, r.text
    return login(client, email)


def login(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def admin(api: Any) -> dict[str, str]:
    return signup(api, "Provedor A", "admin@a.test")


def add_target(client: Any, headers: dict[str, str], cnpj: str, label: str = "X", **extra: Any) -> str:
    r = client.post("/api/v1/cnpj/targets", headers=headers, json={"cnpj": cnpj, "label": label, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
