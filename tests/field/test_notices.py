"""Notices and preferences (pure), and which events of tickets and orders are announced to whom."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from retaguarda.field import notify as field_notify
from retaguarda.field.domain import ServiceOrder
from retaguarda.notifications.inbox import KINDS, Notice, NotificationPreferences, notice_id
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.support import notify as support_notify
from retaguarda.support.domain import DEFAULT_POLICIES, Ticket
from retaguarda.support.sla import BusinessCalendar

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def meta() -> Meta:
    return Meta(tenant_id="t1", actor="system:notify", correlation_id="c", at=NOW)


def test_a_notice_id_is_the_same_for_the_same_event_and_recipient():
    a = Notice.post(meta(), recipient_id="u1", kind="ticket_assigned", title="x", source_id="s", source_version=3)
    b = Notice.post(meta(), recipient_id="u1", kind="ticket_assigned", title="x", source_id="s", source_version=3)
    assert a.id == b.id == notice_id("s", 3, "u1", "ticket_assigned")
    assert a.id != notice_id("s", 4, "u1", "ticket_assigned")
    assert a.mark_read(meta()) is True and a.mark_read(meta()) is False and a.read


def test_preferences_mute_per_channel_and_refuse_unknown_kinds():
    prefs = NotificationPreferences.start(meta(), "u1")
    assert prefs.wants("email", "ticket_opened")
    prefs.change(meta(), {"email": ["ticket_opened"]})
    assert not prefs.wants("email", "ticket_opened") and prefs.wants("inbox", "ticket_opened")
    with pytest.raises(ValidationError) as err:
        prefs.change(meta(), {"email": ["everything"]})
    assert err.value.field == "muted.email"


def test_ticket_events_reach_managers_assignee_and_customer():
    ticket = Ticket.open(uuid.uuid4(), meta(), number=7, customer_id="cust-1", title="Sem sinal",
                         description="", priority="high", channel="phone", cal=BusinessCalendar.from_settings(),
                         policies=DEFAULT_POLICIES)
    ticket.assign(meta(), "tech-1")
    events = ticket.collect_events()
    kinds = [(r.kind, r.audience, r.target) for e in events for r in support_notify.routes(e, ticket)]
    assert ("ticket_opened", "role", "manager") in kinds
    assert ("ticket_assigned", "user", "tech-1") in kinds
    assert all(k in KINDS for k, _, _ in kinds)


def test_order_scheduled_and_completed_reach_customer_and_technician():
    order = ServiceOrder.open(uuid.uuid4(), meta(), number=3, customer_id="cust-1", kind="repair", description="")
    order.schedule(meta(), technician_id="tech-9", start=NOW, end=NOW.replace(hour=14))
    order.start(meta())
    order.complete(meta(), checklist=[{"item": "a", "done": True}, {"item": "b", "done": False}])
    routes = [r for e in order.collect_events() for r in field_notify.routes(e, order)]
    assert [(r.kind, r.audience, r.target) for r in routes] == [
        ("order_scheduled", "customer", "cust-1"), ("order_scheduled", "user", "tech-9"),
        ("order_completed", "customer", "cust-1")]
    assert routes[-1].params["done"] == 1 and routes[-1].params["total"] == 2


def test_a_visit_notice_shows_its_window_in_the_tenant_zone_in_brazilian_format():
    """The notice keeps the instants as ISO data; the bell and the e-mail show 07/12/2026 09:00
    (São Paulo), never `2026-12-07T12:00:00+00:00`."""
    from retaguarda.i18n import readable_params
    from retaguarda.notifications.inbox_api import translated

    order = ServiceOrder.open(uuid.uuid4(), meta(), number=3, customer_id="cust-1", kind="repair", description="")
    order.schedule(meta(), technician_id="tech-9", start=NOW, end=NOW.replace(hour=14))
    route = next(r for e in order.collect_events() for r in field_notify.routes(e, order))
    shown = translated({"title": str(route.title), "body": str(route.body), "params": route.params})
    assert "07/12/2026 09:00" in shown["body"] and "07/12/2026 11:00" in shown["body"], shown["body"]
    assert "2026-12-07T" not in shown["body"]
    # Only instants with an offset are rewritten; numbers, dates and plain words stay as they are
    assert readable_params({"n": 3, "d": "2026-12-07", "w": "T-shirt", "z": "2026-12-07T12:00:00Z"}) == {
        "n": 3, "d": "2026-12-07", "w": "T-shirt", "z": "07/12/2026 09:00"}
