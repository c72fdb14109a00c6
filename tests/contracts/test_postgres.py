"""On PostgreSQL (migrated schema, row-level security): contract numbers stay gap-free under parallel
creation, and a tenant's reader sees only its own contracts."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest

from projections.contracts.contract_list import list_contracts
from retaguarda.contracts.defaults import DEFAULT_TEMPLATE
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import make_cpf
from retaguarda.shared.meta import Meta

pytestmark = pytest.mark.integration


def _meta(tenant: str) -> Meta:
    return Meta(tenant_id=tenant, actor="user-1", correlation_id="c", at=datetime.now(timezone.utc))


def _tenant(c, tenant: str, n: int) -> tuple[list[str], str, str]:
    customers = [str(c.customers.register_customer(_meta(tenant), name=f"Cliente {i}", kind="person",
                                                   document=make_cpf(f"{200000000 + i * 7919:09d}"),
                                                   email=f"c{i}@x.test").aggregate.id) for i in range(n)]
    plan = c.billing.create_plan(_meta(tenant), name="Fibra", price="99.90", cycle="monthly").aggregate
    template = c.contracts.create_template(_meta(tenant), name="Padrão", body=DEFAULT_TEMPLATE).aggregate
    return customers, str(plan.id), str(template.id)


def test_parallel_numbers_are_gap_free_and_readers_see_their_tenant_only(pg_container):
    c = pg_container
    c.runner.start_thread()
    a_customers, a_plan, a_template = _tenant(c, "tenant-a", 6)
    b_customers, b_plan, b_template = _tenant(c, "tenant-b", 1)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def create(customer: str) -> None:
        try:
            numbers.append(c.contracts.create_contract(
                _meta("tenant-a"), customer_id=customer, plan_id=a_plan, template_id=a_template,
                start_date=date(2026, 12, 1), loyalty_months=12).aggregate.number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(cid,)) for cid in a_customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(numbers) == [f"CT-{i:06d}" for i in range(1, 7)]
    c.contracts.create_contract(_meta("tenant-b"), customer_id=b_customers[0], plan_id=b_plan,
                                template_id=b_template, start_date=date(2026, 12, 1), loyalty_months=0)
    c.wait_for(c.store.head(), timeout=30)
    with tenant_reader(c.engine, "tenant-a") as conn:
        a = list_contracts(conn, "tenant-a", per_page=50)
        assert a["total"] == 6
        # Even asking for the other tenant's rows returns nothing under row-level security
        assert list_contracts(conn, "tenant-b")["total"] == 0
    with tenant_reader(c.engine, "tenant-b") as conn:
        b = list_contracts(conn, "tenant-b")
    assert [x["number"] for x in b["items"]] == ["CT-000001"] and b["items"][0]["customer_name"] == "Cliente 0"
