"""The Ticket aggregate on its own: transitions, SLA clocks, comments, alerts (no I/O)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.support.domain import DEFAULT_POLICIES, STATUSES, TRANSITIONS, SupportSettings, Ticket
from retaguarda.support.sla import BusinessCalendar, business_minutes_between

CAL = BusinessCalendar.from_settings()
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SAO_PAULO)


def meta(at: datetime = MONDAY_9, actor: str = "tech-1") -> Meta:
    return Meta(tenant_id="t1", actor=actor, correlation_id="c", at=at)


def open_ticket(priority: str = "high", at: datetime = MONDAY_9) -> Ticket:
    return Ticket.open(uuid.uuid4(), meta(at), number=123, customer_id="cust-1", title="Link down",
                       description="No signal", priority=priority, channel="phone", cal=CAL,
                       policies=DEFAULT_POLICIES)


def hours(h: float) -> datetime:
    return MONDAY_9 + timedelta(hours=h)


def test_open_ticket_has_number_status_and_due_times_in_business_hours():
    t = open_ticket("high")
    assert (t.number, t.status, t.assignee_id) == ("T-000123", "open", None)
    assert t.due("first_response") == MONDAY_9 + timedelta(hours=2)
    # 8 business hours from Monday 09:00 → Monday 17:00
    assert t.due("resolution") == MONDAY_9 + timedelta(hours=8)


def test_bad_input_names_every_field():
    with pytest.raises(ValidationError) as err:
        Ticket.open(uuid.uuid4(), meta(), number=1, customer_id="c", title=" ", description="",
                    priority="urgent", channel="fax", cal=CAL, policies=DEFAULT_POLICIES)
    assert set(err.value.errors) == {"title", "priority", "channel"}


def test_first_public_staff_reply_stops_the_first_response_clock():
    t = open_ticket()
    t.add_comment(meta(hours(0.5), "cust"), comment_id="a", body="hello?", visibility="public",
                  author_kind="customer", cal=CAL)
    t.add_comment(meta(hours(0.6)), comment_id="b", body="note", visibility="internal",
                  author_kind="staff", cal=CAL)
    assert t.first_response_at is None
    t.add_comment(meta(hours(1)), comment_id="c", body="on it", visibility="public", author_kind="staff", cal=CAL)
    assert t.first_response_at == hours(1)
    assert t.clocks["first_response"]["since"] is None
    assert [c["id"] for c in t.visible_comments(include_internal=False)] == ["a", "c"]


def test_customers_cannot_write_internal_notes():
    t = open_ticket()
    with pytest.raises(ValidationError) as err:
        t.add_comment(meta(), comment_id="x", body="psst", visibility="internal", author_kind="customer", cal=CAL)
    assert err.value.field == "visibility"


def test_waiting_for_the_customer_pauses_and_moves_the_due_time_by_the_paused_business_time():
    t = open_ticket("high")
    due_before = t.due("resolution")  # Monday 17:00
    t.change_status(meta(hours(1)), "waiting_customer", cal=CAL)  # paused at 10:00
    t.change_status(meta(hours(24)), "in_progress", cal=CAL)  # resumed Tuesday 09:00
    # 23 wall hours but 9 business hours (10:00–18:00 and 08:00–09:00) later
    assert business_minutes_between(CAL, due_before, t.due("resolution")) == 9 * 60
    assert t.due("resolution") == datetime(2026, 11, 24, 16, 0, tzinfo=SAO_PAULO)


def test_changing_priority_recomputes_due_times_from_the_time_consumed():
    t = open_ticket("low")
    t.change_priority(meta(hours(1)), "critical", cal=CAL, policies=DEFAULT_POLICIES)
    # critical: 1 h first response, 4 h resolution; 1 h already consumed
    assert t.due("first_response") == hours(1)
    assert t.due("resolution") == hours(4)


@pytest.mark.parametrize("path,bad", [
    ((), "closed"),  # close an open ticket that was never resolved
    (("resolved", "closed"), "in_progress"),
    (("waiting_customer",), "reopened"),
])
def test_illegal_transitions_are_conflicts_and_change_nothing(path, bad):
    t = open_ticket()
    for i, status in enumerate(path):
        t.change_status(meta(hours(i + 1)), status, cal=CAL)
    version = t.version
    with pytest.raises(ConflictError):
        t.change_status(meta(hours(5)), bad, reason="because", cal=CAL)
    assert t.version == version


def test_closed_ticket_takes_no_comment():
    t = open_ticket()
    t.change_status(meta(hours(1)), "resolved", cal=CAL)
    t.change_status(meta(hours(2)), "closed", cal=CAL)
    with pytest.raises(ConflictError):
        t.add_comment(meta(hours(3)), comment_id="z", body="hi", visibility="public", author_kind="staff", cal=CAL)


def test_customer_reopens_within_the_window_only():
    t = open_ticket()
    t.change_status(meta(hours(1)), "resolved", cal=CAL)
    with pytest.raises(ConflictError):
        t.change_status(meta(hours(1) + timedelta(days=8), "cust"), "reopened", reason="still down",
                        cal=CAL, by_customer=True, reopen_window_days=7)
    with pytest.raises(ConflictError):  # customers cannot move it anywhere else
        t.change_status(meta(hours(2), "cust"), "in_progress", cal=CAL, by_customer=True)
    t.change_status(meta(hours(2) + timedelta(days=6), "cust"), "reopened", reason="still down", cal=CAL,
                    by_customer=True, reopen_window_days=7)
    assert t.status == "reopened" and t.resolved_at is None


def test_resolution_records_wall_and_business_minutes():
    t = open_ticket()
    t.change_status(meta(datetime(2026, 11, 24, 10, 0, tzinfo=SAO_PAULO)), "resolved", cal=CAL)
    assert t.resolution_minutes == 25 * 60
    assert t.business_resolution_minutes == 9 * 60 + 2 * 60


def test_sla_warning_then_breach_recorded_once_per_target():
    t = open_ticket("critical")  # 60 min first response, 240 min resolution
    assert t.check_sla(meta(hours(0.5)), CAL) == []
    assert t.check_sla(meta(hours(0.8)), CAL) == ["first_response:warning"]
    assert t.check_sla(meta(hours(0.9)), CAL) == []
    assert t.check_sla(meta(hours(1.1)), CAL) == ["first_response:breached"]
    assert t.check_sla(meta(hours(5)), CAL) == ["resolution:breached"]
    assert t.check_sla(meta(hours(6)), CAL) == []


def test_resolving_late_records_the_breach_before_the_resolution():
    t = open_ticket("critical")
    t.add_comment(meta(hours(0.2)), comment_id="a", body="hi", visibility="public", author_kind="staff", cal=CAL)
    t.change_status(meta(hours(5)), "resolved", cal=CAL)
    assert t.sla_alerts["resolution"]["breached"] and not t.sla_alerts["first_response"]["breached"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(STATUSES), max_size=12))
def test_any_sequence_of_requests_only_follows_the_transition_table(requests):
    t = open_ticket()
    at = MONDAY_9
    for status in requests:
        at += timedelta(hours=1)
        before = t.status
        try:
            t.change_status(meta(at), status, reason="r", cal=CAL)
        except ConflictError:
            assert status not in TRANSITIONS[before]
            assert t.status == before
        else:
            assert status in TRANSITIONS[before] and t.status == status


def test_settings_validate_policies_and_calendar():
    s = SupportSettings.create_default(meta())
    bad = {**DEFAULT_POLICIES, "high": {"first_response_minutes": 600, "resolution_minutes": 60}}
    with pytest.raises(ValidationError) as err:
        s.change_policies(meta(), bad)
    assert err.value.field == "policies.high.first_response_minutes"
    with pytest.raises(ValidationError) as err:
        s.change_calendar(meta(), hours={"mon": [["8h", "18:00"]]}, extra_holidays=[], reopen_window_days=7)
    assert err.value.field == "hours.mon[0]"
    assert s.change_calendar(meta(), hours={"mon": [["09:00", "17:00"]]}, extra_holidays=["2026-12-24"],
                             reopen_window_days=3)
    assert s.calendar().is_holiday(datetime(2026, 12, 24).date())
