"""Reports fixtures: a container with the test authenticator (`x-test-role: admin@tenant-a`) and
helpers that build a small business history through the other contexts' public services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from retaguarda.shared.meta import Meta
from tests.conftest import build_container
from tests.integrations.helpers import install_test_authenticator

ADMIN = {"x-test-role": "admin@tenant-a"}
TENANT = "tenant-a"
DOCS = ["52998224725", "11144477735", "12345678909", "98765432100", "39053344705", "71428793860"]


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Any]:
    c = build_container(tmp_path / "var")
    install_test_authenticator(c)
    yield c
    c.close()


def meta_at(at: datetime | None = None, tenant_id: str = TENANT) -> Meta:
    return Meta(
        tenant_id=tenant_id, actor="admin-1", correlation_id="corr-test", at=at or datetime.now(timezone.utc)
    )


def customer(container: Any, i: int, at: datetime | None = None, city: str = "Recife", plan: str = "") -> str:
    address = {
        "street": "Rua A",
        "number": "1",
        "district": "Centro",
        "city": city,
        "uf": "PE",
        "cep": "50000000",
        "ibge_code": "2611606",
    }
    return str(
        container.customers.register_customer(
            meta_at(at),
            name=f"Cliente {i}",
            kind="person",
            document=DOCS[i],
            email=f"c{i}@example.com",
            address=address,
            plan=plan,
        ).aggregate.id
    )


def invoice(container: Any, customer_id: str, total: str, due: date, at: datetime | None = None) -> str:
    inv = container.billing.create_invoice(
        meta_at(at),
        customer_id=customer_id,
        due_date=due,
        items=[{"description": "Internet", "unit_price": total}],
    )
    inv_id = str(inv.aggregate.id)
    container.billing.issue_invoice(meta_at(at), inv_id)
    return inv_id


def settle(container: Any) -> None:
    """Waits until the projections have read the whole log (writes made outside a request)."""
    assert container.wait_for(container.store.head(), 30)


def days_ago(n: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)
