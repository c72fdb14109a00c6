"""Business-time arithmetic for SLAs. Pure: no I/O, no clock; exact (timedelta, not floats).

A `BusinessCalendar` says when a tenant works: per weekday a list of local (start, end) times
in America/Sao_Paulo, minus Brazil's national holidays (from the maintained `holidays`
library) and the tenant's extra holidays. Working windows are closed at the end: a due time of
exactly 18:00 is the last working instant of the day, never "after hours".

Instants are compared and subtracted in UTC, so the result does not depend on DST (São Paulo
had DST until 2019) or on year boundaries: every window is built from local wall times and
converted once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS: dict[str, list[tuple[str, str]]] = {
    **{d: [("08:00", "18:00")] for d in WEEKDAYS[:5]}, "sat": [], "sun": [],
}
ZERO = timedelta(0)
# A calendar with working hours has a window within two weeks; holidays can remove a few more
# days, so ten years of searching means "no working time at all", never a long wait.
_MAX_DAYS = 3660


@lru_cache(maxsize=64)
def national_holidays(year: int) -> frozenset[date]:
    """Brazil's national holidays of `year` (the library's public category)."""
    import holidays

    return frozenset(holidays.country_holidays("BR", years=year).keys())


def _parse_hhmm(value: Any, field_name: str) -> time:
    text = str(value or "").strip()
    try:
        hh, mm = text.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        if hh == "24" and mm == "00":
            return time.max
        return time(int(hh), int(mm))
    except ValueError:
        raise ValidationError(field_name, "times are HH:MM, e.g. 08:00") from None


@dataclass(frozen=True)
class BusinessCalendar:
    """`hours[weekday]` = ((start, end), …) local times, weekday 0 = Monday."""

    hours: tuple[tuple[tuple[time, time], ...], ...]
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    national: bool = True

    @classmethod
    def from_settings(cls, hours: dict[str, Iterable[Iterable[str]]] | None = None,
                      extra_holidays: Iterable[Any] = (), national: bool = True) -> "BusinessCalendar":
        """Validates and builds a calendar from the settings' plain values."""
        hours = DEFAULT_HOURS if hours is None else hours
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise ValidationError(f"hours.{sorted(unknown)[0]}", "weekdays are mon, tue, … sun")
        days = []
        for name in WEEKDAYS:
            windows = []
            for i, pair in enumerate(hours.get(name) or ()):
                pair = list(pair)
                if len(pair) != 2:
                    raise ValidationError(f"hours.{name}[{i}]", "each window is [start, end]")
                start = _parse_hhmm(pair[0], f"hours.{name}[{i}]")
                end = _parse_hhmm(pair[1], f"hours.{name}[{i}]")
                if end <= start:
                    raise ValidationError(f"hours.{name}[{i}]", "a window must end after it starts")
                windows.append((start, end))
            windows.sort()
            for (_, end), (start, _) in zip(windows, windows[1:]):
                if start < end:
                    raise ValidationError(f"hours.{name}", "windows of a day must not overlap")
            days.append(tuple(windows))
        if not any(days):
            raise ValidationError("hours", "at least one weekday needs working hours")
        extra = set()
        for i, value in enumerate(extra_holidays):
            try:
                extra.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
            except ValueError:
                raise ValidationError(f"holidays[{i}]", "dates are YYYY-MM-DD") from None
        return cls(hours=tuple(days), extra_holidays=frozenset(extra), national=national)

    def is_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or (self.national and day in national_holidays(day.year))

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working windows as UTC instants (empty on holidays and days off)."""
        return _windows(self, day)

    def _compute_windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if self.is_holiday(day):
            return ()
        out = []
        for start, end in self.hours[day.weekday()]:
            ws = datetime.combine(day, start, tzinfo=SAO_PAULO)
            we = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=SAO_PAULO)
                  if end == time.max else datetime.combine(day, end, tzinfo=SAO_PAULO))
            out.append((ws.astimezone(timezone.utc), we.astimezone(timezone.utc)))
        return tuple(out)

    def _days_from(self, instant: datetime) -> Iterator[date]:
        day = instant.astimezone(SAO_PAULO).date()
        for i in range(_MAX_DAYS):
            yield day + timedelta(days=i)

    def is_working(self, instant: datetime) -> bool:
        """Inside a working window (the end instant counts as working, the start too)."""
        utc = _utc(instant)
        return any(ws <= utc <= we for ws, we in self.windows(utc.astimezone(SAO_PAULO).date()))

    def as_settings(self) -> dict[str, Any]:
        def hhmm(t: time) -> str:
            return "24:00" if t == time.max else t.strftime("%H:%M")

        return {
            "hours": {WEEKDAYS[i]: [[hhmm(s), hhmm(e)] for s, e in w] for i, w in enumerate(self.hours)},
            "extra_holidays": sorted(d.isoformat() for d in self.extra_holidays),
        }


@lru_cache(maxsize=65536)
def _windows(cal: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    # Calendars are immutable values, so a day's windows can be shared by every computation.
    return cal._compute_windows(day)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return value.astimezone(timezone.utc)


def add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant when `amount` of working time has passed after `start` (UTC).

    `amount` zero gives `start` itself when it is working time, else the next window's start.
    """
    if amount < ZERO:
        raise ValueError("amount must not be negative")
    t = _utc(start)
    remaining = amount
    for day in cal._days_from(t):
        for ws, we in cal.windows(day):
            if we < t or (we == t and remaining > ZERO):
                continue
            s = max(ws, t)
            available = we - s
            if remaining <= available:
                return s + remaining
            remaining -= available
    raise ValidationError("hours", "the business calendar has no working time")


def business_time_between(cal: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Working time in [a, b]; negative when b is before a."""
    a, b = _utc(a), _utc(b)
    if b < a:
        return -business_time_between(cal, b, a)
    total = ZERO
    last = b.astimezone(SAO_PAULO).date()
    for day in cal._days_from(a):
        if day > last:
            break
        for ws, we in cal.windows(day):
            s, e = max(ws, a), min(we, b)
            if e > s:
                total += e - s
    return total


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return add_business_time(cal, start, timedelta(minutes=minutes))


def business_minutes_between(cal: BusinessCalendar, a: datetime, b: datetime) -> int:
    """Whole working minutes in [a, b] (floored towards zero)."""
    seconds = business_time_between(cal, a, b) // timedelta(seconds=1)
    return int(seconds / 60)


# The SLA clock of one target ------------------------------------------------------------

WARNING_SHARE = 0.8


@dataclass(frozen=True)
class Clock:
    """One SLA target's clock: `elapsed` working time consumed before `since`.

    Running when `since` is set; paused (waiting for the customer) or stopped (target met)
    when it is None. `due` and `warn_at` are where the clock reaches 100 % and 80 %; once
    crossed they stay fixed (a breach already happened and pausing does not undo it).
    """

    target_minutes: int
    elapsed: timedelta
    since: datetime | None
    due: datetime | None
    warn_at: datetime | None

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)

    @property
    def warning(self) -> timedelta:
        return timedelta(seconds=int(self.target_minutes * 60 * WARNING_SHARE))

    @classmethod
    def start(cls, cal: BusinessCalendar, at: datetime, target_minutes: int) -> "Clock":
        return cls(target_minutes, ZERO, None, None, None).resume(cal, at)

    def resume(self, cal: BusinessCalendar, at: datetime) -> "Clock":
        # A threshold already crossed keeps its instant; unknown (a lowered target) means "now".
        due = (add_business_time(cal, at, self.target - self.elapsed)
               if self.elapsed < self.target else self.due or at)
        warn = (add_business_time(cal, at, self.warning - self.elapsed)
                if self.elapsed < self.warning else self.warn_at or at)
        return Clock(self.target_minutes, self.elapsed, at, due, warn)

    def pause(self, cal: BusinessCalendar, at: datetime) -> "Clock":
        if self.since is None:
            return self
        elapsed = self.elapsed + max(ZERO, business_time_between(cal, self.since, at))
        return Clock(self.target_minutes, elapsed, None, self.due, self.warn_at)

    def retarget(self, cal: BusinessCalendar, at: datetime, target_minutes: int) -> "Clock":
        """A new target (priority changed): due times are recomputed from what was consumed."""
        running = self.since is not None
        paused = self.pause(cal, at)
        fresh = Clock(target_minutes, paused.elapsed, None, None, None)
        if running:
            return fresh.resume(cal, at)
        # Paused: due times are only known once the clock runs again.
        return fresh

    def consumed(self, cal: BusinessCalendar, at: datetime) -> timedelta:
        if self.since is None:
            return self.elapsed
        return self.elapsed + max(ZERO, business_time_between(cal, self.since, at))

    def as_event(self) -> dict[str, Any]:
        return {"target_minutes": self.target_minutes,
                "elapsed_seconds": int(self.elapsed.total_seconds()),
                "elapsed_us": self.elapsed.microseconds,
                "since": self.since, "due": self.due, "warn_at": self.warn_at}

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> "Clock":
        elapsed = timedelta(seconds=int(data["elapsed_seconds"]), microseconds=int(data.get("elapsed_us", 0)))
        return cls(int(data["target_minutes"]), elapsed, data.get("since"), data.get("due"),
                   data.get("warn_at"))
