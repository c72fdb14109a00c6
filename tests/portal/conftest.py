"""Portal fixtures: the support workspace (staff, two customers with portal users) plus billing
data: two plans offered in the portal, one not, a subscription and an open invoice per customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.conftest import Workspace, login, make_workspace


@dataclass
class Billed:
    ws: Workspace
    plans: dict[str, str]
    subscriptions: list[str]
    invoices: list[str]


def bill(container: Any, ws: Workspace) -> Billed:
    billing = container.billing
    meta = ws.meta("admin")
    billing.configure(
        meta, pix_key="financeiro@provedor.test", merchant_name="Provedor A", merchant_city="Sao Paulo"
    )
    plans = {
        "basic": str(billing.create_plan(meta, name="Fibra 100M", price="99.90", portal=True).aggregate.id),
        "fast": str(billing.create_plan(meta, name="Fibra 500M", price="149.90", portal=True).aggregate.id),
        "hidden": str(billing.create_plan(meta, name="Corporativo 1G", price="999.00").aggregate.id),
    }
    start = date.today() - timedelta(days=20)
    subs, invoices = [], []
    for customer in ws.customers:
        subs.append(
            str(
                billing.subscribe(
                    meta, customer_id=customer, plan_id=plans["basic"], due_day=10, start_date=start
                ).aggregate.id
            )
        )
        draft = billing.create_invoice(
            meta,
            customer_id=customer,
            due_date=date.today() + timedelta(days=5),
            items=[{"description": "Mensalidade", "quantity": "1", "unit_price": "99.90", "kind": "service"}],
        )
        billing.issue_invoice(meta, str(draft.aggregate.id))
        invoices.append(str(draft.aggregate.id))
    container.wait_for(container.store.head(), timeout=10)
    return Billed(ws, plans, subs, invoices)


@pytest.fixture
def ws(container: Any) -> Workspace:
    return make_workspace(container)


@pytest.fixture
def billed(live_container: Any, ws: Workspace) -> Billed:
    return bill(live_container, ws)


@pytest.fixture
def as_(client: Any, ws: Workspace) -> Any:
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, ws.emails[who])
        return cache[who]

    return headers
