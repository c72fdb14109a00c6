"""Ticket and SupportSettings. Pure: no I/O, no clock; SLA arithmetic from `support.sla`.

Status machine (409 for anything else):

    open ─► in_progress ─► waiting_customer ─► in_progress …
      │          │                 │
      └──────────┴─────────────────┴──► resolved ─► closed
                                          │
                                          └──► reopened (customer within the window; staff any time)
                                                 └──► in_progress | waiting_customer | resolved

Two SLA clocks run in business time: first response (stopped by the first public reply of
staff) and resolution (stopped by `resolved`). Both pause while `waiting_customer`. Each event
that moves a clock records its new state (`clocks`), so replay never recomputes with a calendar
that may have changed since.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.support.sla import BusinessCalendar, Clock, business_minutes_between

PRIORITIES = ("low", "medium", "high", "critical")
CHANNELS = ("portal", "phone", "email", "api")
STATUSES = ("open", "in_progress", "waiting_customer", "resolved", "closed", "reopened")
ACTIVE_STATUSES = ("open", "in_progress", "waiting_customer", "reopened")
VISIBILITIES = ("public", "internal")
AUTHOR_KINDS = ("customer", "staff", "system")
TARGETS = ("first_response", "resolution")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "waiting_customer", "resolved"),
    "in_progress": ("waiting_customer", "resolved"),
    "waiting_customer": ("in_progress", "resolved"),
    "reopened": ("in_progress", "waiting_customer", "resolved"),
    "resolved": ("closed", "reopened"),
    "closed": (),
}
# What a customer may do to their own ticket.
CUSTOMER_TRANSITIONS = {("resolved", "reopened"), ("resolved", "closed")}

# Business minutes (first response, resolution) per priority.
DEFAULT_POLICIES: dict[str, dict[str, int]] = {
    "critical": {"first_response_minutes": 60, "resolution_minutes": 240},
    "high": {"first_response_minutes": 120, "resolution_minutes": 480},
    "medium": {"first_response_minutes": 240, "resolution_minutes": 1440},
    "low": {"first_response_minutes": 480, "resolution_minutes": 2880},
}
DEFAULT_CATEGORIES = ("Connection down", "Slow connection", "Billing question", "Installation",
                      "Equipment", "Other")
DEFAULT_REOPEN_WINDOW_DAYS = 7
_NAMESPACE = uuid.UUID("3f0f7a44-58d3-4b8e-9f0c-6a1d2e7b9c41")


class SupportError(Exception):
    """Base of support-context errors."""


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"support-settings\x1f{tenant_id}")


def format_number(number: int) -> str:
    return f"T-{number:06d}"


def _text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(field, f"{field} must be one of: {', '.join(choices)}")
    return str(value)


def clean_category(value: Any, categories: tuple[str, ...] | list[str]) -> str:
    category = _text(value, "category", 80)
    if category and categories and category not in categories:
        raise ValidationError("category", f"unknown category; use one of: {', '.join(categories)}")
    return category


def clean_reason(value: Any, required: bool = False) -> str:
    return _text(value, "reason", 500, required)


def _clocks(clocks: dict[str, Clock]) -> dict[str, dict[str, Any]]:
    return {k: c.as_event() for k, c in clocks.items()}


class Ticket(Aggregate):
    """A customer's support request and its conversation, assignment, status and SLA clocks.

    State: number, customer_id, title, description, category, priority, channel, status,
    assignee_id, comments (list of dicts), clocks (per target), sla_alerts, opened_at,
    first_response_at, resolved_at, closed_at, resolution_minutes, business_resolution_minutes.
    """

    class Opened(Aggregate.Created):
        number: str
        customer_id: str
        title: str
        description: str
        category: str
        priority: str
        channel: str
        opened_by: str
        clocks: dict[str, Any]

        def apply(self, t: "Ticket") -> None:
            super().apply(t)
            t.status = "open"
            t.assignee_id = None
            t.comments = []
            t.sla_alerts = {k: {"warning": False, "breached": False} for k in TARGETS}
            t.opened_at = self.timestamp
            t.first_response_at = None
            t.resolved_at = None
            t.closed_at = None
            t.resolution_minutes = None
            t.business_resolution_minutes = None
            t.status_reason = ""

    class Edited(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, t: "Ticket") -> None:
            for key, value in self.changes.items():
                setattr(t, key, value)

    class PriorityChanged(Aggregate.Event):
        priority: str
        previous: str
        clocks: dict[str, Any]

        def apply(self, t: "Ticket") -> None:
            t.priority = self.priority
            t.clocks = self.clocks

    class Assigned(Aggregate.Event):
        assignee_id: str | None
        previous_id: str | None

        def apply(self, t: "Ticket") -> None:
            t.assignee_id = self.assignee_id

    class CommentAdded(Aggregate.Event):
        comment_id: str
        author: str
        author_kind: str
        body: str
        visibility: str
        attachments: list[dict[str, Any]]
        first_response: bool
        clocks: dict[str, Any]

        def apply(self, t: "Ticket") -> None:
            t.comments = [*t.comments, {
                "id": self.comment_id, "author": self.author, "author_kind": self.author_kind,
                "body": self.body, "visibility": self.visibility,
                "attachments": list(self.attachments), "at": self.timestamp,
            }]
            if self.first_response:
                t.first_response_at = self.timestamp
            t.clocks = self.clocks

    class StatusChanged(Aggregate.Event):
        status: str
        previous: str
        reason: str
        clocks: dict[str, Any]
        resolution_minutes: int | None
        business_resolution_minutes: int | None

        def apply(self, t: "Ticket") -> None:
            t.status = self.status
            t.status_reason = self.reason
            t.clocks = self.clocks
            if self.status == "resolved":
                t.resolved_at = self.timestamp
                t.resolution_minutes = self.resolution_minutes
                t.business_resolution_minutes = self.business_resolution_minutes
            elif self.status == "closed":
                t.closed_at = self.timestamp
            elif self.status == "reopened":
                t.resolved_at = None
                t.resolution_minutes = None
                t.business_resolution_minutes = None

    class SlaWarning(Aggregate.Event):
        target: str
        due: datetime | None

        def apply(self, t: "Ticket") -> None:
            t.sla_alerts = {**t.sla_alerts, self.target: {**t.sla_alerts[self.target], "warning": True}}

    class SlaBreached(Aggregate.Event):
        target: str
        due: datetime | None

        def apply(self, t: "Ticket") -> None:
            t.sla_alerts = {**t.sla_alerts, self.target: {**t.sla_alerts[self.target], "breached": True}}

    # Commands --------------------------------------------------------------------------
    @classmethod
    def open(cls, ticket_id: UUID, meta: Meta, *, number: int, customer_id: str, title: Any,
             description: Any, priority: Any, channel: Any, category: Any = "",
             opened_by: str = "staff", cal: BusinessCalendar, policies: dict[str, dict[str, int]],
             categories: tuple[str, ...] | list[str] = ()) -> "Ticket":
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        checks = {
            "title": lambda: _text(title, "title", 200, required=True),
            "description": lambda: _text(description, "description", 10_000),
            "priority": lambda: _choice(priority, "priority", PRIORITIES),
            "channel": lambda: _choice(channel, "channel", CHANNELS),
            "category": lambda: clean_category(category, categories),
        }
        for key, check in checks.items():
            try:
                values[key] = check()
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        policy = policies[values["priority"]]
        clocks = {
            "first_response": Clock.start(cal, meta.at, policy["first_response_minutes"]),
            "resolution": Clock.start(cal, meta.at, policy["resolution_minutes"]),
        }
        return cls._open(cls.Opened, meta, id=ticket_id, number=format_number(number),
                         customer_id=str(customer_id), opened_by=_choice(opened_by, "opened_by", AUTHOR_KINDS),
                         clocks=_clocks(clocks), **values)

    def clock(self, target: str) -> Clock:
        return Clock.from_event(self.clocks[target])

    def is_met(self, target: str) -> bool:
        if target == "first_response":
            return self.first_response_at is not None
        return self.status in ("resolved", "closed")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def due(self, target: str) -> datetime | None:
        return self.clocks[target]["due"]

    def edit(self, meta: Meta, *, categories: tuple[str, ...] | list[str] = (),
             **changes: Any) -> dict[str, Any]:
        """Title, description and category; returns what really changed."""
        if self.status == "closed":
            raise ConflictError("a closed ticket cannot be edited")
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        checks = {
            "title": lambda v: _text(v, "title", 200, required=True),
            "description": lambda v: _text(v, "description", 10_000),
            "category": lambda v: clean_category(v, categories),
        }
        for key, value in changes.items():
            if key not in checks:
                errors[key] = "this field cannot be changed here"
                continue
            try:
                cleaned[key] = checks[key](value)
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Edited, meta, changes=diff)
        return diff

    def change_priority(self, meta: Meta, priority: Any, *, cal: BusinessCalendar,
                        policies: dict[str, dict[str, int]]) -> bool:
        priority = _choice(priority, "priority", PRIORITIES)
        if self.status == "closed":
            raise ConflictError("a closed ticket cannot change priority")
        if priority == self.priority:
            return False
        self._check_sla(meta, cal)
        policy = policies[priority]
        clocks = {}
        for target in TARGETS:
            clock = self.clock(target)
            minutes = policy[f"{target}_minutes"]
            clocks[target] = clock if self.is_met(target) else clock.retarget(cal, meta.at, minutes)
        self._record(self.PriorityChanged, meta, priority=priority, previous=self.priority,
                     clocks=_clocks(clocks))
        return True

    def assign(self, meta: Meta, assignee_id: str | None) -> bool:
        if self.status == "closed":
            raise ConflictError("a closed ticket cannot be reassigned")
        if assignee_id == self.assignee_id:
            return False
        self._record(self.Assigned, meta, assignee_id=assignee_id, previous_id=self.assignee_id)
        return True

    def add_comment(self, meta: Meta, *, comment_id: str, body: Any, visibility: Any,
                    author_kind: str, cal: BusinessCalendar,
                    attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        if self.status == "closed":
            raise ConflictError("a closed ticket takes no more comments")
        visibility = _choice(visibility, "visibility", VISIBILITIES)
        author_kind = _choice(author_kind, "author_kind", AUTHOR_KINDS)
        if author_kind == "customer" and visibility != "public":
            raise ValidationError("visibility", "customers write public comments only")
        attachments = list(attachments or [])
        text = _text(body, "body", 20_000, required=not attachments)
        first = (author_kind == "staff" and visibility == "public" and self.first_response_at is None)
        clocks = {k: self.clock(k) for k in TARGETS}
        if first:
            self._check_sla(meta, cal, only="first_response")
            clocks["first_response"] = clocks["first_response"].pause(cal, meta.at)
        self._record(self.CommentAdded, meta, comment_id=comment_id, author=meta.actor,
                     author_kind=author_kind, body=text, visibility=visibility,
                     attachments=attachments, first_response=first, clocks=_clocks(clocks))
        return self.comments[-1]

    def allowed_statuses(self, by_customer: bool = False) -> tuple[str, ...]:
        nexts = TRANSITIONS.get(self.status, ())
        if by_customer:
            return tuple(s for s in nexts if (self.status, s) in CUSTOMER_TRANSITIONS)
        return nexts

    def change_status(self, meta: Meta, status: Any, *, reason: Any = "", cal: BusinessCalendar,
                      by_customer: bool = False, reopen_window_days: int = DEFAULT_REOPEN_WINDOW_DAYS) -> None:
        status = _choice(status, "status", STATUSES)
        reason = clean_reason(reason)
        if status == self.status:
            raise ConflictError(f"the ticket is already {status}", field="status")
        if status not in TRANSITIONS.get(self.status, ()):
            raise ConflictError(f"a ticket that is {self.status} cannot become {status}", field="status")
        if by_customer:
            if (self.status, status) not in CUSTOMER_TRANSITIONS:
                raise ConflictError(f"customers cannot move a ticket from {self.status} to {status}",
                                    field="status")
            if status == "reopened" and self.resolved_at is not None and \
                    (meta.at - self.resolved_at).total_seconds() > reopen_window_days * 86400:
                raise ConflictError(f"a ticket can be reopened up to {reopen_window_days} days after it "
                                    "was resolved; open a new ticket instead", field="status")
        if status == "reopened" and not reason:
            raise ValidationError("reason", "say why the ticket is reopened")
        self._check_sla(meta, cal)
        clocks = {k: self.clock(k) for k in TARGETS}
        wall = business = None
        if status in ("waiting_customer", "resolved"):
            clocks = {k: c.pause(cal, meta.at) for k, c in clocks.items()}
        elif status in ("in_progress", "reopened") and self.status in ("waiting_customer", "resolved"):
            clocks = {k: (c if self.is_met(k) and k == "first_response" else c.resume(cal, meta.at))
                      for k, c in clocks.items()}
        if status == "resolved":
            wall = int((meta.at - self.opened_at).total_seconds() // 60)
            business = business_minutes_between(cal, self.opened_at, meta.at)
        self._record(self.StatusChanged, meta, status=status, previous=self.status, reason=reason,
                     clocks=_clocks(clocks), resolution_minutes=wall,
                     business_resolution_minutes=business)

    def check_sla(self, meta: Meta, cal: BusinessCalendar) -> list[str]:
        """Records SlaWarning/SlaBreached for thresholds crossed by `meta.at` (once per target)."""
        return self._check_sla(meta, cal)

    def _check_sla(self, meta: Meta, cal: BusinessCalendar, only: str | None = None) -> list[str]:
        recorded = []
        if not self.is_active:
            return recorded
        for target in TARGETS:
            if (only and target != only) or self.is_met(target):
                continue
            clock = self.clock(target)
            consumed = clock.consumed(cal, meta.at)
            alerts = self.sla_alerts[target]
            if consumed >= clock.target and not alerts["breached"]:
                self._record(self.SlaBreached, meta, target=target, due=clock.due)
                recorded.append(f"{target}:breached")
            elif consumed >= clock.warning and not alerts["warning"] and not alerts["breached"]:
                self._record(self.SlaWarning, meta, target=target, due=clock.due)
                recorded.append(f"{target}:warning")
        return recorded

    def visible_comments(self, include_internal: bool) -> list[dict[str, Any]]:
        return [c for c in self.comments if include_internal or c["visibility"] == "public"]

    def find_attachment(self, attachment_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for comment in self.comments:
            for attachment in comment["attachments"]:
                if attachment["id"] == attachment_id:
                    return comment, attachment
        return None


_CATEGORY_RE = re.compile(r"^[^\x00-\x1f]{1,80}$")


def clean_policies(value: Any) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict):
        raise ValidationError("policies", "policies must be an object keyed by priority")
    unknown = set(value) - set(PRIORITIES)
    if unknown:
        raise ValidationError(f"policies.{sorted(unknown)[0]}", "unknown priority")
    out: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    for priority in PRIORITIES:
        given = value.get(priority)
        if given is None:
            errors[f"policies.{priority}"] = "a policy is required for every priority"
            continue
        if not isinstance(given, dict):
            errors[f"policies.{priority}"] = "must be an object"
            continue
        policy = {}
        for key in ("first_response_minutes", "resolution_minutes"):
            minutes = given.get(key)
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 525_600:
                errors[f"policies.{priority}.{key}"] = "whole business minutes between 1 and 525600"
            else:
                policy[key] = minutes
        if len(policy) == 2 and policy["first_response_minutes"] > policy["resolution_minutes"]:
            errors[f"policies.{priority}.first_response_minutes"] = \
                "the first response target cannot be longer than the resolution target"
        out[priority] = policy
    if errors:
        raise ValidationError.many(errors)
    return out


def clean_categories(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise ValidationError("categories", "categories must be a list of names")
    out: list[str] = []
    for i, raw in enumerate(value):
        name = " ".join(str(raw or "").split())
        if not _CATEGORY_RE.match(name):
            raise ValidationError(f"categories[{i}]", "a category has 1 to 80 printable characters")
        if name in out:
            raise ValidationError(f"categories[{i}]", "duplicate category")
        out.append(name)
    if len(out) > 100:
        raise ValidationError("categories", "at most 100 categories")
    return out


def clean_calendar(hours: Any, extra_holidays: Any, reopen_window_days: Any) -> dict[str, Any]:
    if not isinstance(hours, dict):
        raise ValidationError("hours", "hours must be an object keyed by weekday (mon … sun)")
    if not isinstance(extra_holidays, (list, tuple)):
        raise ValidationError("holidays", "holidays must be a list of YYYY-MM-DD dates")
    cal = BusinessCalendar.from_settings(hours, extra_holidays)
    if isinstance(reopen_window_days, bool) or not isinstance(reopen_window_days, int) or \
            not 0 <= reopen_window_days <= 365:
        raise ValidationError("reopen_window_days", "whole days between 0 and 365")
    settings = cal.as_settings()
    return {"hours": settings["hours"], "extra_holidays": settings["extra_holidays"],
            "reopen_window_days": reopen_window_days}


class SupportSettings(Aggregate):
    """A tenant's SLA policies, business calendar, reopen window and ticket categories.

    One per tenant (id derived from the tenant). State: policies, hours, extra_holidays,
    reopen_window_days, categories.
    """

    class Created(Aggregate.Created):
        policies: dict[str, dict[str, int]]
        hours: dict[str, list[list[str]]]
        extra_holidays: list[str]
        reopen_window_days: int
        categories: list[str]

    class PoliciesChanged(Aggregate.Event):
        policies: dict[str, dict[str, int]]

        def apply(self, s: "SupportSettings") -> None:
            s.policies = self.policies

    class CalendarChanged(Aggregate.Event):
        hours: dict[str, list[list[str]]]
        extra_holidays: list[str]
        reopen_window_days: int

        def apply(self, s: "SupportSettings") -> None:
            s.hours = self.hours
            s.extra_holidays = self.extra_holidays
            s.reopen_window_days = self.reopen_window_days

    class CategoriesChanged(Aggregate.Event):
        categories: list[str]

        def apply(self, s: "SupportSettings") -> None:
            s.categories = self.categories

    @classmethod
    def create_default(cls, meta: Meta) -> "SupportSettings":
        cal = BusinessCalendar.from_settings().as_settings()
        return cls._open(cls.Created, meta, id=settings_id(meta.tenant_id),
                         policies={k: dict(v) for k, v in DEFAULT_POLICIES.items()},
                         hours=cal["hours"], extra_holidays=[],
                         reopen_window_days=DEFAULT_REOPEN_WINDOW_DAYS,
                         categories=list(DEFAULT_CATEGORIES))

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_settings(self.hours, self.extra_holidays)

    def change_policies(self, meta: Meta, policies: Any) -> bool:
        cleaned = clean_policies(policies)
        if cleaned == self.policies:
            return False
        self._record(self.PoliciesChanged, meta, policies=cleaned)
        return True

    def change_calendar(self, meta: Meta, *, hours: Any, extra_holidays: Any,
                        reopen_window_days: Any) -> bool:
        cleaned = clean_calendar(hours, extra_holidays, reopen_window_days)
        if (cleaned["hours"], cleaned["extra_holidays"], cleaned["reopen_window_days"]) == \
                (self.hours, self.extra_holidays, self.reopen_window_days):
            return False
        self._record(self.CalendarChanged, meta, **cleaned)
        return True

    def change_categories(self, meta: Meta, categories: Any) -> bool:
        cleaned = clean_categories(categories)
        if cleaned == self.categories:
            return False
        self._record(self.CategoriesChanged, meta, categories=cleaned)
        return True
