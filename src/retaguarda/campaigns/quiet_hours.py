"""Quiet hours: marketing goes out only inside the tenant's daily window (default 09:00–21:00
America/Sao_Paulo). Pure time arithmetic; the caller passes `now`."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retaguarda.shared.clock import SAO_PAULO


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return SAO_PAULO


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def next_window(now: datetime, start: str = "09:00", end: str = "21:00",
                zone: str = "America/Sao_Paulo") -> datetime | None:
    """None when `now` is inside the window; else the (aware) moment the next window opens.

    A window whose end is before its start spans midnight (e.g. 22:00–06:00).
    """
    tz = _zone(zone)
    local = now.astimezone(tz)
    opens, closes = _hhmm(start), _hhmm(end)
    t = local.time()
    if opens == closes:
        return None  # a 24-hour window
    inside = opens <= t < closes if opens < closes else (t >= opens or t < closes)
    if inside:
        return None
    day = local.date() if t < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=tz)
