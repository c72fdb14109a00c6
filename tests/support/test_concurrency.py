"""Two technicians at once: one wins, the other gets a clean retry or a clear 409; ticket numbers
never repeat or skip under parallel opens (SQLite here, PostgreSQL in the integration test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta
from retaguarda.support import Actor, Ticket


def _customer(container: Any, tenant: str = "tenant-a") -> tuple[Meta, str]:
    meta = Meta(tenant_id=tenant, actor="admin-1", correlation_id="c", at=datetime.now(timezone.utc))
    customer = container.customers.register_customer(meta, name="Cliente", kind="person",
                                                     document="52998224725", email="c@x.test")
    return meta, str(customer.aggregate.id)


def _race(n: int, action: Callable[[int], Any]) -> list[Any]:
    """Runs `action(i)` in n threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _open(container: Any, meta: Meta, customer_id: str) -> Any:
    return container.support.open_ticket(meta, Actor("admin-1"), customer_id=customer_id, title="Sem sinal",
                                         description="", priority="high", channel="phone").aggregate


def _meta(who: str) -> Meta:
    return Meta(tenant_id="tenant-a", actor=who, correlation_id=who, at=datetime.now(timezone.utc))


def test_two_technicians_resolving_at_once_one_wins_the_other_gets_a_conflict(container):
    meta, customer = _customer(container)
    ticket = _open(container, meta, customer)
    results = _race(2, lambda i: container.support.change_status(_meta(f"tech-{i}"), Actor(f"tech-{i}"),
                                                                 str(ticket.id), "resolved", "fixed"))
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], ConflictError)  # "already resolved" (or "changed by someone else")
    events = list(container.store.events.get(ticket.id))
    assert [type(e).__qualname__ for e in events].count("Ticket.StatusChanged") == 1


def test_concurrent_comments_and_assignment_all_land_after_clean_retries(container):
    meta, customer = _customer(container)
    ticket = _open(container, meta, customer)

    def act(i: int) -> Any:
        if i == 0:
            return container.support.assign(_meta("tech-0"), str(ticket.id), None)
        return container.support.add_comment(_meta(f"tech-{i}"), Actor(f"tech-{i}"), str(ticket.id),
                                             body=f"note {i}", visibility="internal")

    results = _race(4, act)
    assert not [r for r in results if isinstance(r, Exception)], results
    final = container.support.load(Ticket, ticket.id, "tenant-a")
    assert sorted(c["body"] for c in final.comments) == ["note 1", "note 2", "note 3"]
    versions = [e.originator_version for e in container.store.events.get(ticket.id)]
    assert versions == list(range(1, len(versions) + 1))


def test_parallel_opens_never_repeat_or_skip_a_number_on_sqlite(container):
    meta, customer = _customer(container)
    results = _race(8, lambda i: _open(container, meta, customer).number)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [f"T-{n:06d}" for n in range(1, 9)]


@pytest.mark.integration
def test_parallel_opens_never_repeat_or_skip_a_number_on_postgres(pg_container):
    meta, customer = _customer(pg_container)
    results = _race(16, lambda i: _open(pg_container, meta, customer).number)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [f"T-{n:06d}" for n in range(1, 17)]
    # and the read model agrees after the projector catches up
    pg_container.runner.catch_up()
    from projections.support.ticket_queue import list_tickets
    from retaguarda.readdb import tenant_reader

    with tenant_reader(pg_container.engine, "tenant-a") as conn:
        listed = list_tickets(conn, "tenant-a", datetime.now(timezone.utc), per_page=50)
    assert sorted(i["number"] for i in listed["items"]) == sorted(results)
