"""The one place that reads the wall clock; tests pass a fixed or fast clock instead."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock tests can move by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


def as_utc(value: datetime | None) -> datetime | None:
    """Read models store UTC; SQLite hands datetimes back naive, so mark them as UTC again."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def to_utc(value: datetime, *, naive_zone: tzinfo | None = None) -> datetime:
    """The same instant as an aware UTC datetime. A naive value is only accepted when the caller
    says which zone its wall clock reads (a provider documented to answer in local time);
    otherwise it is a bug, because stored instants must never be guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        if naive_zone is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no zone; instants must be tz-aware")
        value = value.replace(tzinfo=naive_zone)
    return value.astimezone(timezone.utc)


def parse_instant(text: str, *, naive_zone: tzinfo = SAO_PAULO) -> datetime:
    """An ISO 8601 date-time from a Brazilian provider, as aware UTC. Without an offset the text
    is read as the wall clock of `naive_zone` (São Paulo: what the NFS-e providers answer)."""
    raw = str(text).strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    return to_utc(datetime.fromisoformat(raw), naive_zone=naive_zone)
