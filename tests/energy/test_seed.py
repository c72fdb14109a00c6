"""The demo tenant's sandbox companies: seeded connected, synced, idempotent."""

from __future__ import annotations

from typing import Any

from projections.energy.portfolio import list_accounts
from retaguarda.energy.install import seed_demo
from tests.energy.conftest import wait_for


def test_seed_demo_connects_two_sandbox_companies_once(live_container: Any) -> None:
    c = live_container
    seed_demo(c, "demo-tenant", "system:seed")
    seed_demo(c, "demo-tenant", "system:seed")

    def done() -> Any:
        with c.engine.connect() as conn:
            items = list_accounts(conn, "demo-tenant")["items"]
        finished = [a for a in items if a["last_sync"] and a["last_sync"]["status"] == "completed"]
        return items if len(finished) == 2 else None

    items = wait_for(done)
    assert len(items) == 2 and {a["status"] for a in items} == {"connected"}
    assert sorted(a["last_sync"]["units"] for a in items) == [2, 4]
