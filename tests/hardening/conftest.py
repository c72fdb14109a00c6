"""A seeded demo tenant (every context's demo rows) behind one app, shared by a module's tests.

The API-contract run (schemathesis) and the cross-tenant probe both need a tenant with real rows
in every context and logged-in staff/customer users; seeding costs seconds, so a module builds it
once. Tests that change it must say so (the cross-tenant probe checks it changed nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import build_container

BASE_URL = "http://127.0.0.1:8000"


@dataclass
class Demo:
    container: Any
    app: Any
    client: Any
    tenant_id: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def login(self, email: str, password: str) -> str:
        r = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from litestar.testing import TestClient

    from retaguarda.main import create_app
    from retaguarda.seed import seed_demo

    container = build_container(tmp_path_factory.mktemp("demo") / "var")
    container.runner.start_thread()
    if container.start_embedded:
        container.start_embedded()
    try:
        seed_demo(container)
        app = create_app(container)
        with TestClient(app, base_url=BASE_URL) as tc:
            tenant_id = _demo_tenant(container)
            d = Demo(container=container, app=app, client=tc, tenant_id=tenant_id)
            password = container.settings.demo_password
            d.tokens["admin"] = d.login("admin@demo.test", password)
            d.tokens["customer"] = d.login("customer@demo.test", password)
            yield d
    finally:
        container.close()


def _demo_tenant(container: Any) -> str:
    from retaguarda.identity.install import seed_demo as seed_identity

    return str(seed_identity(container, container.settings.demo_password)["tenant_id"])
