"""Business-time arithmetic: examples a person can check by hand, then properties (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ValidationError
from retaguarda.support.sla import (
    BusinessCalendar,
    Clock,
    add_business_minutes,
    business_minutes_between,
    business_time_between,
)

CAL = BusinessCalendar.from_settings()
# Lunch break, Saturday mornings and a tenant holiday: windows that are not one block a day.
SPLIT = BusinessCalendar.from_settings(
    {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [["08:00", "12:00"], ["13:00", "18:00"]],
     "wed": [["08:00", "12:00"], ["13:00", "18:00"]], "thu": [["08:00", "12:00"], ["13:00", "18:00"]],
     "fri": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["09:00", "13:00"]]},
    extra_holidays=["2026-12-24", "2026-12-31"])


def sp(*args: int) -> datetime:
    return datetime(*args, tzinfo=SAO_PAULO)


def test_two_hours_from_five_pm_end_at_nine_next_working_morning():
    assert add_business_minutes(CAL, sp(2026, 11, 23, 17, 0), 120) == sp(2026, 11, 24, 9, 0)


def test_national_holidays_and_weekends_are_skipped():
    # Friday 2026-11-20 is Black Awareness Day (national since 2024); then the weekend.
    assert add_business_minutes(CAL, sp(2026, 11, 19, 17, 0), 120) == sp(2026, 11, 23, 9, 0)
    # Christmas on a Friday, new year on the next Friday.
    assert add_business_minutes(CAL, sp(2026, 12, 24, 17, 30), 60) == sp(2026, 12, 28, 8, 30)


def test_tenant_holidays_and_split_windows():
    # Wednesday 23 Dec 17:00 + 3 h: 1 h that day, 24th is the tenant's holiday, 25th national,
    # Saturday 26th 09:00–11:00.
    assert add_business_minutes(SPLIT, sp(2026, 12, 23, 17, 0), 180) == sp(2026, 12, 26, 11, 0)
    assert add_business_minutes(SPLIT, sp(2026, 11, 23, 11, 30), 60) == sp(2026, 11, 23, 13, 30)
    assert business_minutes_between(SPLIT, sp(2026, 11, 23, 11, 0), sp(2026, 11, 23, 14, 0)) == 120


def test_an_opening_after_hours_starts_counting_next_morning():
    assert add_business_minutes(CAL, sp(2026, 11, 23, 22, 0), 60) == sp(2026, 11, 24, 9, 0)
    assert business_minutes_between(CAL, sp(2026, 11, 21, 0, 0), sp(2026, 11, 23, 8, 0)) == 0


def test_a_calendar_without_any_working_day_is_refused():
    with pytest.raises(ValidationError) as err:
        BusinessCalendar.from_settings({d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    assert err.value.field == "hours"
    with pytest.raises(ValidationError) as err:
        BusinessCalendar.from_settings({"mon": [["18:00", "08:00"]]})
    assert err.value.field == "hours.mon[0]"


def test_historical_dst_days_count_real_elapsed_time():
    # 2018-11-04 São Paulo moved clocks forward at midnight (DST started); the working day is
    # still 10 hours of real time, and Thursday→Monday arithmetic crosses the change (Friday
    # 2 Nov is All Souls' Day).
    assert business_minutes_between(CAL, sp(2018, 11, 1, 8, 0), sp(2018, 11, 5, 18, 0)) == 20 * 60
    assert add_business_minutes(CAL, sp(2018, 11, 1, 17, 0), 120) == sp(2018, 11, 5, 9, 0)
    # DST ended 2019-02-17 at midnight (clocks back): same.
    assert add_business_minutes(CAL, sp(2019, 2, 15, 17, 0), 120) == sp(2019, 2, 18, 9, 0)


instants = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2032, 12, 31),
                        timezones=st.just(timezone.utc))
minutes = st.integers(min_value=0, max_value=60 * 24 * 20)
calendars = st.sampled_from([CAL, SPLIT])


@settings(max_examples=150, deadline=None)
@given(calendars, instants, minutes)
def test_due_time_is_never_inside_non_working_time(cal, start, n):
    due = add_business_minutes(cal, start, n)
    assert cal.is_working(due)
    assert due >= start


@settings(max_examples=150, deadline=None)
@given(calendars, instants, minutes)
def test_adding_then_measuring_gives_back_the_same_business_time(cal, start, n):
    due = add_business_minutes(cal, start, n)
    assert business_time_between(cal, start, due) == timedelta(minutes=n)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, st.integers(1, 60 * 24 * 5), st.integers(0, 60 * 60 * 24 * 10),
       st.integers(0, 60 * 60 * 24 * 10))
def test_pausing_for_n_business_minutes_moves_the_due_time_by_exactly_n(cal, opened, target,
                                                                        pause_after, pause_for):
    clock = Clock.start(cal, opened, target)
    paused_at = opened + timedelta(seconds=pause_after)
    resumed_at = paused_at + timedelta(seconds=pause_for)
    resumed = clock.pause(cal, paused_at).resume(cal, resumed_at)
    consumed_before_pause = business_time_between(cal, opened, paused_at)
    if consumed_before_pause >= clock.target:
        assert resumed.due == clock.due  # a breach already happened: it stays where it was
    else:
        n = business_time_between(cal, paused_at, resumed_at)
        assert business_time_between(cal, clock.due, resumed.due) == n
        assert cal.is_working(resumed.due)


@settings(max_examples=100, deadline=None)
@given(calendars, instants, minutes, st.integers(0, 60 * 24 * 3))
def test_splitting_an_amount_at_any_point_gives_the_same_due_time(cal, start, a, b):
    # Across DST changes and year ends alike: add(add(s, a), b) == add(s, a + b).
    assert add_business_minutes(cal, add_business_minutes(cal, start, a), b) == \
        add_business_minutes(cal, start, a + b)


@settings(max_examples=60, deadline=None)
@given(st.integers(2015, 2031), st.integers(0, 600))
def test_results_are_the_same_across_the_year_boundary(year, n):
    # 31 Dec 17:00 local, adding n minutes: New Year's Day is a national holiday everywhere.
    start = sp(year, 12, 31, 17, 0)
    due = add_business_minutes(CAL, start, n)
    assert business_time_between(CAL, start, due) == timedelta(minutes=n)
    assert due.astimezone(SAO_PAULO).date() != date(year + 1, 1, 1)
