"""The Field service on a real (SQLite) event store: numbers, overlap under races, idempotent completion."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retaguarda.eventstore import EventStore
from retaguarda.field.application import Field
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta
from tests.conftest import make_settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # Monday 09:00 in São Paulo


@pytest.fixture
def field(tmp_path: Path) -> Any:
    store = EventStore(env=make_settings(tmp_path / "var").eventsourcing_env())
    yield Field(store, customer_exists=lambda t, c: c != "ghost")
    store.close()


def meta(actor: str = "manager-1") -> Meta:
    return Meta(tenant_id="t1", actor=actor, correlation_id="c", at=NOW)


def test_orders_are_numbered_without_gaps_and_bad_input_takes_no_number(field: Any):
    first = field.open_order(meta(), customer_id="c1", kind="repair", description="no signal").aggregate
    with pytest.raises(ValidationError) as err:
        field.open_order(meta(), customer_id="c1", kind="magic")
    assert err.value.field == "kind"
    with pytest.raises(ValidationError) as err:
        field.open_order(meta(), customer_id="ghost", kind="repair")
    assert err.value.field == "customer_id"
    second = field.open_order(meta(), customer_id="c1", kind="installation").aggregate
    assert (first.number, second.number) == ("OS-000001", "OS-000002")


def test_windows_are_stored_in_utc_and_overlaps_are_refused_naming_start(field: Any):
    a = field.open_order(meta(), customer_id="c1", kind="repair").aggregate
    b = field.open_order(meta(), customer_id="c1", kind="repair").aggregate
    field.schedule(meta(), str(a.id), technician_id="tech-1", start="2026-12-08T09:00:00-03:00",
                   end="2026-12-08T11:00:00-03:00")
    order = field.get_order("t1", str(a.id))
    assert order.window_start == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert order.window_start.utcoffset() == timedelta(0)
    with pytest.raises(ConflictError) as err:
        field.schedule(meta(), str(b.id), technician_id="tech-1", start="2026-12-08T10:30:00-03:00",
                       end="2026-12-08T12:00:00-03:00")
    assert err.value.field == "start"
    field.schedule(meta(), str(b.id), technician_id="tech-2", start="2026-12-08T10:30:00-03:00",
                   end="2026-12-08T12:00:00-03:00")
    with pytest.raises(ValidationError) as err:
        field.schedule(meta(), str(b.id), technician_id="tech-2", start="2026-12-08T10:30:00",
                       end="2026-12-08T12:00:00-03:00")
    assert err.value.field == "start"


def test_moving_or_cancelling_a_visit_frees_its_window(field: Any):
    a = field.open_order(meta(), customer_id="c1", kind="repair").aggregate
    b = field.open_order(meta(), customer_id="c1", kind="repair").aggregate
    field.schedule(meta(), str(a.id), technician_id="tech-1", start="2026-12-08T09:00:00-03:00",
                   end="2026-12-08T11:00:00-03:00")
    field.schedule(meta(), str(a.id), technician_id="tech-1", start="2026-12-09T09:00:00-03:00",
                   end="2026-12-09T11:00:00-03:00")
    field.schedule(meta(), str(b.id), technician_id="tech-1", start="2026-12-08T09:00:00-03:00",
                   end="2026-12-08T11:00:00-03:00")  # the 8th is free again
    field.cancel(meta(), str(b.id), reason="customer moved")
    c = field.open_order(meta(), customer_id="c1", kind="visit").aggregate
    field.schedule(meta(), str(c.id), technician_id="tech-1", start="2026-12-08T09:30:00-03:00",
                   end="2026-12-08T10:00:00-03:00")


def test_two_managers_booking_the_same_technician_at_once_one_wins(field: Any):
    orders = [field.open_order(meta(), customer_id="c1", kind="repair").aggregate for _ in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(orders))

    def book(order_id: str) -> None:
        barrier.wait()
        try:
            field.schedule(meta(), order_id, technician_id="tech-1", start="2026-12-08T09:00:00-03:00",
                           end="2026-12-08T10:00:00-03:00")
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=book, args=(str(o.id),)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]


def test_completion_with_the_same_key_is_recorded_once(field: Any):
    order = field.open_order(meta(), customer_id="c1", kind="installation").aggregate
    field.schedule(meta(), str(order.id), technician_id="tech-1", start="2026-12-08T09:00:00-03:00",
                   end="2026-12-08T10:00:00-03:00")
    field.start(meta("tech-1"), str(order.id))
    first = field.complete(meta("tech-1"), str(order.id), checklist=[{"item": "Signal", "done": True}],
                           completion_key="key-1")
    again = field.complete(meta("tech-1"), str(order.id), completion_key="key-1")
    assert again.position == 0 and first.position > 0
    loaded = field.get_order("t1", str(order.id))
    # Opened, Scheduled, Started, Completed: the repeat added no event
    assert loaded.status == "completed" and loaded.version == 4
