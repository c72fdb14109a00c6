"""Two managers book the same technician at once on PostgreSQL: exactly one window is kept; order
numbers stay gap-free under parallel opens."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta

pytestmark = pytest.mark.integration


def _meta() -> Meta:
    return Meta(tenant_id="tenant-pg", actor="manager-1", correlation_id="c", at=datetime.now(UTC))


def test_parallel_bookings_of_one_technician_one_wins(pg_container: Any):
    customer = pg_container.customers.register_customer(_meta(), name="Cliente", kind="person",
                                                        document="52998224725", email="c@x.test").aggregate
    field = pg_container.service_orders
    orders = []
    barrier = threading.Barrier(6)

    def open_one() -> None:
        barrier.wait()
        orders.append(field.open_order(_meta(), customer_id=str(customer.id), kind="repair").aggregate)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.number for o in orders) == [f"OS-{i:06d}" for i in range(1, 7)]

    start = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # Tuesday 09:00 in São Paulo
    outcomes: list[str] = []
    barrier = threading.Barrier(len(orders))

    def book(order_id: str) -> None:
        barrier.wait()
        try:
            field.schedule(_meta(), order_id, technician_id="tech-1", start=start, end=start + timedelta(hours=1))
            outcomes.append("ok")
        except ConflictError as exc:
            assert exc.field == "start"
            outcomes.append("conflict")

    threads = [threading.Thread(target=book, args=(str(o.id),)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (len(orders) - 1) + ["ok"]
