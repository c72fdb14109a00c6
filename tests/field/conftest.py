"""Field fixtures: the support workspace (admin, manager, two technicians, customers, portal users)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.conftest import Workspace, login, make_workspace


@pytest.fixture
def ws(container: Any) -> Workspace:
    return make_workspace(container)


@pytest.fixture
def as_(client: Any, ws: Workspace) -> Any:
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, ws.emails[who])
        return cache[who]

    return headers
