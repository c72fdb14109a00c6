"""Contracts fixtures: a workspace (real identity users, customers) plus a monthly plan in billing and
the default ISP template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.conftest import Workspace, login, make_workspace


@dataclass
class ContractsWorkspace:
    ws: Workspace
    plan_id: str
    plan2_id: str
    template_id: str


def make_contracts_workspace(container: Any, tenant: str = "Provedor A", domain: str = "a.test") -> ContractsWorkspace:
    from retaguarda.contracts.defaults import DEFAULT_TEMPLATE

    ws = make_workspace(container, tenant, domain)
    meta = ws.meta()
    plan = container.billing.create_plan(meta, name="Fibra 500", price="99.90", cycle="monthly").aggregate
    plan2 = container.billing.create_plan(meta, name="Fibra 1 Giga", price="149.90", cycle="monthly").aggregate
    template = container.contracts.create_template(meta, name="Padrão", body=DEFAULT_TEMPLATE).aggregate
    container.runner.catch_up()
    return ContractsWorkspace(ws, str(plan.id), str(plan2.id), str(template.id))


@pytest.fixture
def cws(container: Any) -> ContractsWorkspace:
    return make_contracts_workspace(container)


@pytest.fixture
def as_(client: Any, cws: ContractsWorkspace) -> Any:
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, cws.ws.emails[who])
        return cache[who]

    return headers
