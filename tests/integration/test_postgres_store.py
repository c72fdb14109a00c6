"""The same code on PostgreSQL: event store, projections, replay, row-level security."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from projections.customers.customer_list import list_customers
from projections.runner import rebuild
from retaguarda.readdb import READER_ROLE, tenant_reader
from retaguarda.shared.documents import make_cpf
from retaguarda.shared.errors import ConflictError

pytestmark = pytest.mark.integration


def _register(container, meta, i, tenant=None):
    m = meta.with_tenant(tenant) if tenant else meta
    return container.customers.register_customer(m, name=f"Cliente {i}", kind="person",
                                                 document=make_cpf(f"{i + 500:09d}"), email=f"c{i}@x.com")


def test_customers_are_stored_projected_and_replayed_on_postgres(pg_container, meta):
    # Given customers of two tenants written to PostgreSQL
    for i in range(5):
        _register(pg_container, meta, i)
    _register(pg_container, meta, 99, tenant="tenant-b")
    pg_container.runner.catch_up()
    # Then each tenant reads only its own rows
    with tenant_reader(pg_container.engine, "tenant-a") as conn:
        assert list_customers(conn, "tenant-a")["total"] == 5
    # And a rebuild produces the same rows
    with pg_container.engine.connect() as conn:
        before = conn.execute(sa.text("select id, name, version from customers order by id")).all()
    for projection in pg_container.runner.projections:
        rebuild(pg_container.store, pg_container.engine, projection)
    with pg_container.engine.connect() as conn:
        after = conn.execute(sa.text("select id, name, version from customers order by id")).all()
    assert before == after and len(after) == 6


def test_row_level_security_is_a_second_wall(pg_container, meta):
    # Given rows of two tenants
    _register(pg_container, meta, 1)
    _register(pg_container, meta, 2, tenant="tenant-b")
    pg_container.runner.catch_up()

    def count_as_reader(setting: str | None) -> int:
        with pg_container.engine.connect() as conn, conn.begin():
            conn.execute(sa.text(f"SET LOCAL ROLE {READER_ROLE}"))
            if setting is not None:
                conn.execute(sa.text("SELECT set_config('retaguarda.tenant_id', :t, true)"), {"t": setting})
            # No tenant filter in the SQL on purpose: only the policy stands between tenants.
            return conn.execute(sa.text("select count(*) from customers")).scalar()

    # Then a query without the tenant setting sees no rows, and each tenant sees only its own
    assert count_as_reader(None) == 0
    assert count_as_reader("tenant-a") == 1
    assert count_as_reader("tenant-b") == 1
    # And the wall survives a rebuild (the swapped-in table gets the policy again)
    projection = next(p for p in pg_container.runner.projections if p.name == "customer_list")
    rebuild(pg_container.store, pg_container.engine, projection)
    assert count_as_reader(None) == 0
    assert count_as_reader("tenant-a") == 1


def test_duplicate_documents_race_on_postgres_and_exactly_one_wins(pg_container, meta):
    # Given ten writers registering the same document at the same time
    results: list[object] = []

    def register() -> None:
        try:
            results.append(_register(pg_container, meta, 7))
        except ConflictError as exc:
            results.append(exc)

    threads = [threading.Thread(target=register) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one customer exists with it and the others got a clear conflict
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, ConflictError) for r in results if isinstance(r, Exception))


def test_the_log_order_is_gap_free_and_global(pg_container, meta):
    for i in range(20):
        _register(pg_container, meta, i + 20, tenant="tenant-a" if i % 2 else "tenant-b")
    ids = [n.id for n in pg_container.store.read(1, 1000)]
    assert ids == list(range(1, len(ids) + 1))
