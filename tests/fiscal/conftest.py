"""Fixtures of the fiscal domain tests: a container with the demo-like sandbox settings and a
customer to bill, plus helpers that run the backbone (dispatcher → worker → projections)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retaguarda.integrations.jobs import tune_actors
from retaguarda.shared.documents import make_cnpj, make_cpf
from retaguarda.shared.meta import Meta
from tests.conftest import build_container
from tests.integrations.helpers import install_test_authenticator

TENANT = "tenant-a"


def now_meta(tenant_id: str = TENANT, actor: str = "user-1") -> Meta:
    return Meta(tenant_id=tenant_id, actor=actor, correlation_id="corr-fiscal",
                at=datetime.now(timezone.utc))


def demo_settings(**changes: Any) -> dict[str, Any]:
    from retaguarda.fiscal.install import DEMO_SETTINGS

    data = copy.deepcopy(DEMO_SETTINGS)
    data.update(changes)
    return data


def run_backbone(container: Any, rounds: int = 6) -> None:
    """Dispatcher → broker → worker until quiet (polls are delayed messages), then projections."""
    container.worker.start()
    for _ in range(rounds):
        container.dispatcher.catch_up()
        container.broker.join("fiscal", timeout=30_000, fail_fast=False)
        container.broker.join("notifications", timeout=30_000, fail_fast=False)
    container.runner.catch_up()


def add_customer(container: Any, *, kind: str = "company", base: str = "283746510001",
                 name: str = "Provedor Serra Azul Ltda", tenant_id: str = TENANT) -> str:
    document = make_cnpj(base) if kind == "company" else make_cpf(base)
    saved = container.customers.register_customer(
        now_meta(tenant_id), name=name, kind=kind, document=document, email="fin@serra.test",
        address={"street": "Rua A", "number": "10", "district": "Centro", "city": "Belo Horizonte",
                 "uf": "MG", "cep": "30100000", "ibge_code": "3106200"})
    return str(saved.aggregate.id)


@pytest.fixture
def fiscal_container(tmp_path: Path) -> Iterator[Any]:
    # Provider hosts point at a closed local port: no test ever reaches the network.
    closed = "http://127.0.0.1:9"
    c = build_container(tmp_path / "var", focus_url=closed, plugnotas_url=closed,
                        nfse_nacional_url=closed, nfse_danfse_url=closed)
    tune_actors(c.broker, min_backoff=5, max_backoff=20)
    c.fiscal_poll_ms = 5
    # A simulated authority of its own: the process-wide one remembers other tests' DPS ids.
    from retaguarda.fiscal.backends.authority import SimulatedAuthority

    c.fiscal_backend_options = {"authority": SimulatedAuthority(clock=c.clock)}
    install_test_authenticator(c)
    c.fiscal.save_settings(now_meta(), demo_settings())
    yield c
    c.close()


@pytest.fixture
def customer_id(fiscal_container: Any) -> str:
    return add_customer(fiscal_container)


@pytest.fixture
def api(fiscal_container: Any) -> Iterator[Any]:
    """A TestClient over the live container (projector thread, dispatcher, worker): requests
    carry `x-test-role: <role>` (see tests.integrations.helpers.install_test_authenticator)."""
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    fiscal_container.runner.start_thread()
    fiscal_container.start_embedded()
    with TestClient(create_app(fiscal_container), base_url="http://127.0.0.1:8000") as tc:
        yield tc


ADMIN = {"x-test-role": "admin"}


def wait_status(api: Any, note_id: str, *statuses: str, timeout: float = 20.0) -> dict[str, Any]:
    from tests.integrations.helpers import wait_until

    def check() -> Any:
        body = api.get(f"/api/v1/fiscal/nfse/{note_id}", headers=ADMIN).json()
        return body if body["status"] in statuses else None

    return wait_until(check, timeout=timeout, interval=0.05)
