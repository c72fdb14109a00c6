"""ServiceOrder and TechnicianDay on their own: transitions, validation, the overlap rule (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.field.domain import (
    FINAL_STATUSES,
    ServiceOrder,
    TechnicianDay,
    overlaps,
    technician_day_id,
)
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # Monday 09:00 in São Paulo


def meta(at: datetime = NOW, actor: str = "manager-1") -> Meta:
    return Meta(tenant_id="t1", actor=actor, correlation_id="c", at=at)


def new_order(kind: str = "installation") -> ServiceOrder:
    return ServiceOrder.open(uuid.uuid4(), meta(), number=123, customer_id="cust-1", kind=kind,
                             description="Fibre installation", address={"street": "Rua A", "city": "Cuiabá"})


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def test_an_order_opens_with_its_number_and_nothing_scheduled():
    order = new_order()
    assert (order.number, order.status, order.technician_id) == ("OS-000123", "open", None)
    assert order.address == {"street": "Rua A", "city": "Cuiabá"}


def test_bad_input_names_each_field_and_creates_nothing():
    with pytest.raises(ValidationError) as err:
        ServiceOrder.open(uuid.uuid4(), meta(), number=1, customer_id="c", kind="teleport",
                          description="x" * 6000, priority="urgent")
    assert set(err.value.errors) == {"kind", "description", "priority"}


def test_the_happy_path_keeps_every_step():
    order = new_order()
    order.schedule(meta(), technician_id="tech-1", start=at(1), end=at(3))
    order.dispatch(meta(at(0.5)))
    order.start(meta(at(1)))
    assert order.complete(meta(at(2)), checklist=[{"item": "Signal", "done": True}],
                          materials=[{"sku": "ONU-1", "description": "ONU", "quantity": "1", "serial": "ZTE123"}],
                          notes="ok", completion_key="k1") is True
    assert order.status == "completed"
    assert order.materials == [{"sku": "ONU-1", "description": "ONU", "quantity": "1", "serial": "ZTE123"}]
    assert [type(e).__name__ for e in order.collect_events()] == [
        "Opened", "Scheduled", "Dispatched", "Started", "Completed"]


def test_completing_twice_with_the_same_key_records_once_and_another_key_is_refused():
    order = new_order()
    order.schedule(meta(), technician_id="tech-1", start=at(1), end=at(3))
    order.start(meta())
    assert order.complete(meta(), completion_key="same") is True
    assert order.complete(meta(), completion_key="same") is False
    with pytest.raises(ConflictError):
        order.complete(meta(), completion_key="other")
    assert [type(e).__name__ for e in order.collect_events()].count("Completed") == 1


def test_reschedule_keeps_the_previous_window_in_the_history():
    order = new_order()
    order.schedule(meta(), technician_id="tech-1", start=at(1), end=at(3))
    order.schedule(meta(at(0.5)), technician_id="tech-2", start=at(25), end=at(27), reason="rain")
    assert order.technician_id == "tech-2"
    assert order.schedule_history == [{"technician_id": "tech-1", "start": at(1).isoformat(),
                                       "end": at(3).isoformat(), "until": at(0.5).isoformat()}]


@pytest.mark.parametrize("final", FINAL_STATUSES)
def test_a_final_order_cannot_be_worked_on(final: str):
    order = new_order()
    order.schedule(meta(), technician_id="tech-1", start=at(1), end=at(3))
    order.start(meta())
    if final == "completed":
        order.complete(meta())
    elif final == "failed":
        order.fail(meta(), reason="customer_absent")
    else:
        order.cancel(meta(), reason="customer gave up")
    for action in (lambda: order.cancel(meta(), reason="x"), lambda: order.start(meta()),
                   lambda: order.schedule(meta(), technician_id="t", start=at(5), end=at(6))):
        with pytest.raises(ConflictError):
            action()


def test_completing_a_cancelled_order_is_a_conflict():
    order = new_order()
    order.cancel(meta(), reason="duplicate")
    with pytest.raises(ConflictError):
        order.complete(meta())


def test_windows_and_materials_are_validated():
    order = new_order()
    with pytest.raises(ValidationError) as err:
        order.schedule(meta(), technician_id="t", start=at(3), end=at(1))
    assert err.value.field == "end"
    with pytest.raises(ValidationError) as err:
        order.schedule(meta(), technician_id="t", start=datetime(2026, 12, 7, 9), end=at(1))
    assert err.value.field == "start"
    order.schedule(meta(), technician_id="t", start=at(1), end=at(2))
    order.start(meta())
    with pytest.raises(ValidationError) as err:
        order.complete(meta(), materials=[{"sku": "X", "quantity": "1e30"}])
    assert err.value.field == "materials[0].quantity"
    with pytest.raises(ValidationError) as err:
        order.complete(meta(), geo={"lat": "95", "lng": "0"})
    assert err.value.field == "geo"


def test_touching_windows_do_not_overlap():
    assert not overlaps(at(1), at(2), at(2), at(3))
    assert overlaps(at(1), at(2), at(1.5), at(3))


def test_a_technician_day_refuses_an_overlapping_window_naming_start():
    day = TechnicianDay.start(meta(), "tech-1", date(2026, 12, 7))
    assert day.id == technician_day_id("t1", "tech-1", date(2026, 12, 7))
    day.book(meta(), "order-a", at(1), at(3))
    with pytest.raises(ConflictError) as err:
        day.book(meta(), "order-b", at(2), at(4))
    assert err.value.field == "start"
    day.book(meta(), "order-a", at(1.5), at(3.5))  # moving its own window is fine
    day.release(meta(), "order-a")
    day.book(meta(), "order-b", at(2), at(4))
    assert set(day.windows) == {"order-b"}


windows = st.tuples(st.integers(0, 47), st.integers(1, 8)).map(
    lambda t: (NOW + timedelta(minutes=30 * t[0]), NOW + timedelta(minutes=30 * (t[0] + t[1]))))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), windows, st.booleans()), max_size=30))
def test_whatever_is_booked_or_released_no_two_windows_overlap(steps):
    day = TechnicianDay.start(meta(), "tech-1", date(2026, 12, 7))
    for order_id, (start, end), release in steps:
        if release:
            day.release(meta(), order_id)
            assert order_id not in day.windows
            continue
        clash = any(other != order_id and overlaps(start, end, s, e) for other, (s, e) in day.windows.items())
        if clash:
            with pytest.raises(ConflictError):
                day.book(meta(), order_id, start, end)
        else:
            day.book(meta(), order_id, start, end)
            assert day.windows[order_id] == [start, end]
    booked = sorted(day.windows.values())
    for (_, end), (start, _) in zip(booked, booked[1:], strict=False):
        assert end <= start
