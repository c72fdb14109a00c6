"""ScheduledReport: a report sent by e-mail daily, weekly or monthly. Pure: no I/O, no clock.

A sending is requested once per period (`request_period` refuses a period already requested, so
concurrent scheduler runs lose the optimistic race instead of sending twice) or on demand
(`request_now`); the `reports.send_report` job then builds the file and records `Sent` in the
same save as the e-mails it queues.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

KINDS = ("customers", "billing", "churn", "technicians", "receivables")
FORMATS = ("xlsx", "pdf", "csv")
FREQUENCIES = ("daily", "weekly", "monthly")
MAX_RECIPIENTS = 20
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
FILTER_KEYS = (
    "status",
    "plan",
    "city",
    "created_from",
    "created_to",
    "from",
    "to",
    "method",
    "months",
    "month",
)


def clean_schedule(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validates every given field at once (the error names each offending field)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def given(key: str) -> bool:
        return key in data and (data[key] is not None or not partial)

    if given("kind") or not partial:
        if data.get("kind") not in KINDS:
            errors["kind"] = f"kind must be one of {', '.join(KINDS)}"
        else:
            out["kind"] = data["kind"]
    if given("format") or not partial:
        fmt = data.get("format") or "xlsx"
        if fmt not in FORMATS:
            errors["format"] = f"format must be one of {', '.join(FORMATS)}"
        else:
            out["format"] = fmt
    if given("frequency") or not partial:
        if data.get("frequency") not in FREQUENCIES:
            errors["frequency"] = f"frequency must be one of {', '.join(FREQUENCIES)}"
        else:
            out["frequency"] = data["frequency"]
    for key, low, high in (("weekday", 0, 7), ("day", 1, 31)):
        if key in data and data[key] is not None:
            value = data[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[key] = f"{key} must be a whole number from {low} to {high}"
            else:
                out[key] = 7 if key == "weekday" and value == 0 else value
        elif key in data or not partial:
            out[key] = None
    if given("time") or not partial:
        text = str(data.get("time") or "08:00")
        if not _TIME_RE.match(text):
            errors["time"] = "time must be HH:MM (24 h)"
        else:
            out["time"] = text
    if given("recipients") or not partial:
        raw = data.get("recipients")
        if not isinstance(raw, list) or not raw:
            errors["recipients"] = "recipients must be a non-empty list of e-mail addresses"
        elif len(raw) > MAX_RECIPIENTS:
            errors["recipients"] = f"at most {MAX_RECIPIENTS} recipients"
        else:
            emails = []
            for i, item in enumerate(raw):
                address = str(item or "").strip().lower()
                if not _EMAIL_RE.match(address) or len(address) > 254:
                    errors[f"recipients[{i}]"] = "e-mail address is not valid"
                elif address not in emails:
                    emails.append(address)
            out["recipients"] = emails
    if given("filters") or not partial:
        raw_filters = data.get("filters") or {}
        if not isinstance(raw_filters, dict):
            errors["filters"] = "filters must be an object"
        else:
            unknown = sorted(set(raw_filters) - set(FILTER_KEYS))
            if unknown:
                errors[f"filters.{unknown[0]}"] = "unknown filter"
            elif any(not isinstance(v, (str, int)) or isinstance(v, bool) for v in raw_filters.values()):
                errors["filters"] = "filter values are text or whole numbers"
            else:
                out["filters"] = {k: raw_filters[k] for k in sorted(raw_filters)}
    if "paused" in data and data["paused"] is not None:
        if not isinstance(data["paused"], bool):
            errors["paused"] = "paused must be true or false"
        else:
            out["paused"] = data["paused"]
    if errors:
        raise ValidationError.many(errors)
    return out


def check_timing(frequency: str, weekday: int | None, day: int | None) -> None:
    if frequency == "weekly" and weekday is None:
        raise ValidationError("weekday", "a weekly report needs a weekday (1 = Monday … 7 = Sunday)")
    if frequency == "monthly" and day is None:
        raise ValidationError("day", "a monthly report needs a day of the month (1-31)")


def period_of(frequency: str, local: datetime) -> str:
    """The period a local instant falls in: a day, an ISO week or a month."""
    if frequency == "daily":
        return local.date().isoformat()
    if frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{local.year:04d}-{local.month:02d}"


def due_moment(frequency: str, weekday: int | None, day: int | None, time: str, local: datetime) -> datetime:
    """When, inside the period of `local` (same zone), the report is due."""
    hour, minute = int(time[:2]), int(time[3:])
    base = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if frequency == "weekly":
        return base + timedelta(days=(weekday or 1) - local.isoweekday())
    if frequency == "monthly":
        nxt = date(local.year + (local.month == 12), local.month % 12 + 1, 1)
        last = (nxt - timedelta(days=1)).day
        return base.replace(day=min(day or 1, last))
    return base


class ScheduledReport(Aggregate):
    """State: kind, format, frequency, weekday, day, time, recipients, filters, paused, deleted,
    last_period, requests (request id → status), sendings (count)."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        kind: str
        format: str
        frequency: str
        weekday: int | None
        day: int | None
        time: str
        recipients: list[str]
        filters: dict[str, Any]
        paused: bool
        deleted: bool
        last_period: str
        requests: dict[str, str]

    class Created(Aggregate.Created):
        kind: str
        format: str
        frequency: str
        weekday: int | None
        day: int | None
        time: str
        recipients: list[str]
        filters: dict[str, Any]

        def apply(self, r: "ScheduledReport") -> None:
            super().apply(r)
            r.recipients = list(self.recipients)
            r.filters = dict(self.filters)
            r.paused = False
            r.deleted = False
            r.last_period = ""
            r.requests = {}

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, r: "ScheduledReport") -> None:
            for key, value in self.changes.items():
                setattr(r, key, value)

    class Deleted(Aggregate.Event):
        def apply(self, r: "ScheduledReport") -> None:
            r.deleted = True

    class SendRequested(Aggregate.Event):
        request_id: str
        period: str
        manual: bool

        def apply(self, r: "ScheduledReport") -> None:
            r.requests = {**r.requests, self.request_id: "requested"}
            if self.period:
                r.last_period = self.period

    class Sent(Aggregate.Event):
        request_id: str
        filename: str
        sha256: str
        rows: int
        email_ids: list[str]

        def apply(self, r: "ScheduledReport") -> None:
            r.requests = {**r.requests, self.request_id: "sent"}

    class SendFailed(Aggregate.Event):
        request_id: str
        error: str

        def apply(self, r: "ScheduledReport") -> None:
            r.requests = {**r.requests, self.request_id: "failed"}

    @classmethod
    def create(cls, meta: Meta, data: dict[str, Any]) -> "ScheduledReport":
        fields = clean_schedule(data)
        fields.pop("paused", None)
        check_timing(fields["frequency"], fields["weekday"], fields["day"])
        return cls._open(cls.Created, meta, id=uuid.uuid4(), **fields)

    def change(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        self._alive()
        cleaned = clean_schedule(data, partial=True)
        merged = {k: cleaned.get(k, getattr(self, k)) for k in ("frequency", "weekday", "day")}
        check_timing(merged["frequency"], merged["weekday"], merged["day"])
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Changed, meta, changes=diff)
        return diff

    def delete(self, meta: Meta) -> None:
        self._alive()
        self._record(self.Deleted, meta)

    def _alive(self) -> None:
        if self.deleted:
            raise ConflictError("the scheduled report was deleted")

    def request_now(self, meta: Meta) -> str:
        self._alive()
        request_id = f"now-{uuid.uuid4().hex}"
        self._record(self.SendRequested, meta, request_id=request_id, period="", manual=True)
        return request_id

    def request_period(self, meta: Meta, local_now: datetime) -> str | None:
        """Requests this period's sending when it is due and not yet requested; None otherwise."""
        if self.deleted or self.paused:
            return None
        period = period_of(self.frequency, local_now)
        if period == self.last_period:
            return None
        if local_now < due_moment(self.frequency, self.weekday, self.day, self.time, local_now):
            return None
        request_id = f"period-{period}"
        self._record(self.SendRequested, meta, request_id=request_id, period=period, manual=False)
        return request_id

    def record_sent(
        self, meta: Meta, request_id: str, *, filename: str, sha256: str, rows: int, email_ids: list[str]
    ) -> bool:
        if self.requests.get(request_id) != "requested":
            return False
        self._record(
            self.Sent,
            meta,
            request_id=request_id,
            filename=filename,
            sha256=sha256,
            rows=rows,
            email_ids=list(email_ids),
        )
        return True

    def record_failed(self, meta: Meta, request_id: str, error: str) -> bool:
        if self.requests.get(request_id) != "requested":
            return False
        self._record(self.SendFailed, meta, request_id=request_id, error=str(error)[:1000])
        return True
