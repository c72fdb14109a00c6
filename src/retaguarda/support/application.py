"""Support commands: load → Ticket/SupportSettings → save, with gap-free numbers and SLA clocks.

Who may act is decided by the caller's `Actor` (staff or the customer a portal user belongs
to); the web layer builds it from the principal. A customer only ever sees and touches the
tickets of their own customer record (others are "not found") and only public comments.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from retaguarda.services import Saved, Service
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number
from retaguarda.support.domain import (
    DEFAULT_CATEGORIES,
    DEFAULT_POLICIES,
    DEFAULT_REOPEN_WINDOW_DAYS,
    TARGETS,
    SupportSettings,
    Ticket,
    settings_id,
)
from retaguarda.support.sla import BusinessCalendar

SEQUENCE = "support:ticket"
# Who may be assigned: an active staff user of the tenant whose role may work on tickets.
ASSIGNABLE_PERMISSION = "support:write"


@dataclass(frozen=True)
class Actor:
    """The caller as support sees it: staff, or the portal user of one customer."""

    user_id: str
    customer_id: str | None = None
    staff: bool = True

    @classmethod
    def customer(cls, user_id: str, customer_id: str | None) -> "Actor":
        return cls(user_id=user_id, customer_id=customer_id, staff=False)

    @property
    def author_kind(self) -> str:
        return "staff" if self.staff else "customer"


@dataclass(frozen=True)
class Settings:
    """A tenant's effective support settings (defaults until an admin saves some)."""

    policies: dict[str, dict[str, int]]
    hours: dict[str, list[list[str]]]
    extra_holidays: list[str]
    reopen_window_days: int
    categories: list[str]
    saved: bool

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_settings(self.hours, self.extra_holidays)


UserLookup = Callable[[str], Any]
"""user id → object with tenant_id, role, active, email, name (or None): the identity context."""


class Support(Service):
    def __init__(self, store: Any, on_saved: Any = None, *, users: UserLookup | None = None,
                 customers: Callable[[str, str], Any] | None = None) -> None:
        super().__init__(store, on_saved)
        self._users = users
        self._customers = customers

    # Settings ------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> Settings:
        s = self.find(SupportSettings, settings_id(tenant_id))
        if s is None:
            cal = BusinessCalendar.from_settings().as_settings()
            return Settings({k: dict(v) for k, v in DEFAULT_POLICIES.items()}, cal["hours"], [],
                            DEFAULT_REOPEN_WINDOW_DAYS, list(DEFAULT_CATEGORIES), saved=False)
        return Settings(s.policies, s.hours, list(s.extra_holidays), s.reopen_window_days,
                        list(s.categories), saved=True)

    def _settings_for_change(self, meta: Meta) -> tuple[SupportSettings, bool]:
        """The tenant's settings and whether they are new (defaults saved with the first change)."""
        s = self.find(SupportSettings, settings_id(meta.tenant_id))
        return (s, False) if s is not None else (SupportSettings.create_default(meta), True)

    def ensure_settings(self, meta: Meta) -> Saved:
        """Saves the defaults once (seed); does nothing when the tenant has settings."""
        def command() -> Saved:
            s = self.find(SupportSettings, settings_id(meta.tenant_id))
            if s is not None:
                return Saved(s, 0)
            s = SupportSettings.create_default(meta)
            return Saved(s, self.save(s))

        return self.retrying(command)

    def set_policies(self, meta: Meta, policies: Any) -> Saved:
        def command() -> Saved:
            s, new = self._settings_for_change(meta)
            changed = s.change_policies(meta, policies)
            return Saved(s, self.save(s) if changed or new else 0)

        return self.retrying(command)

    def set_calendar(self, meta: Meta, *, hours: Any, extra_holidays: Any, reopen_window_days: Any) -> Saved:
        def command() -> Saved:
            s, new = self._settings_for_change(meta)
            changed = s.change_calendar(meta, hours=hours, extra_holidays=extra_holidays,
                                        reopen_window_days=reopen_window_days)
            return Saved(s, self.save(s) if changed or new else 0)

        return self.retrying(command)

    def set_categories(self, meta: Meta, categories: Any) -> Saved:
        def command() -> Saved:
            s, new = self._settings_for_change(meta)
            changed = s.change_categories(meta, categories)
            return Saved(s, self.save(s) if changed or new else 0)

        return self.retrying(command)

    # Tickets -------------------------------------------------------------------------
    def open_ticket(self, meta: Meta, actor: Actor, *, customer_id: Any, title: Any, description: Any,
                    priority: Any, channel: Any, category: Any = "") -> Saved:
        """Opens a ticket numbered T-000001, T-000002 … per tenant, never repeating or skipping."""
        customer_id = str(customer_id or "").strip()
        if not customer_id:
            raise ValidationError("customer_id", "customer_id is required")
        if not actor.staff and actor.customer_id != customer_id:
            raise NotFoundError("Customer", customer_id)
        self._check_customer(meta.tenant_id, customer_id)
        settings = self.get_settings(meta.tenant_id)
        cal = settings.calendar()
        # Validate before taking a number, so bad input never touches the sequence.
        Ticket.open(uuid.uuid4(), meta, number=1, customer_id=customer_id, title=title,
                    description=description, priority=priority, channel=channel, category=category,
                    opened_by=actor.author_kind, cal=cal, policies=settings.policies,
                    categories=settings.categories)

        def command() -> Saved:
            number, seq = next_number(self, SEQUENCE, meta)
            ticket = Ticket.open(uuid.uuid4(), meta, number=number, customer_id=customer_id, title=title,
                                 description=description, priority=priority, channel=channel,
                                 category=category, opened_by=actor.author_kind, cal=cal,
                                 policies=settings.policies, categories=settings.categories)
            return Saved(ticket, self.save(ticket, seq))

        return self.retrying(command, attempts=50)

    def get_ticket(self, tenant_id: str, actor: Actor, ticket_id: str) -> Ticket:
        ticket = self.load(Ticket, ticket_id, tenant_id)
        if not actor.staff and ticket.customer_id != actor.customer_id:
            raise NotFoundError("Ticket", ticket_id)
        return ticket

    def update_ticket(self, meta: Meta, ticket_id: str, **changes: Any) -> Saved:
        """Staff edits: title, description, category and priority (which recomputes due times)."""
        priority = changes.pop("priority", None)

        def command() -> Saved:
            ticket = self.load(Ticket, ticket_id, meta.tenant_id)
            settings = self.get_settings(meta.tenant_id)
            diff = ticket.edit(meta, categories=settings.categories, **changes) if changes else {}
            moved = ticket.change_priority(meta, priority, cal=settings.calendar(),
                                           policies=settings.policies) if priority is not None else False
            return Saved(ticket, self.save(ticket) if diff or moved else 0)

        return self.retrying(command)

    def assign(self, meta: Meta, ticket_id: str, assignee_id: Any) -> Saved:
        """Assigns to an active staff user of the tenant who may work on tickets (None unassigns)."""
        assignee = str(assignee_id).strip() if assignee_id else None
        if assignee is not None:
            self._check_assignee(meta.tenant_id, assignee)

        def command() -> Saved:
            ticket = self.load(Ticket, ticket_id, meta.tenant_id)
            changed = ticket.assign(meta, assignee)
            return Saved(ticket, self.save(ticket) if changed else 0)

        return self.retrying(command)

    def add_comment(self, meta: Meta, actor: Actor, ticket_id: str, *, body: Any, visibility: Any,
                    attachments: list[dict[str, Any]] | None = None) -> Saved:
        """A reply or internal note. A customer's reply to a ticket waiting for them resumes it."""
        def command() -> Saved:
            ticket = self.get_ticket(meta.tenant_id, actor, ticket_id)
            settings = self.get_settings(meta.tenant_id)
            cal = settings.calendar()
            ticket.add_comment(meta, comment_id=uuid.uuid4().hex, body=body, visibility=visibility,
                               author_kind=actor.author_kind, cal=cal, attachments=attachments)
            if not actor.staff and ticket.status == "waiting_customer":
                ticket.change_status(meta, "in_progress", reason="customer replied", cal=cal)
            return Saved(ticket, self.save(ticket))

        return self.retrying(command)

    def change_status(self, meta: Meta, actor: Actor, ticket_id: str, status: Any, reason: Any = "") -> Saved:
        def command() -> Saved:
            ticket = self.get_ticket(meta.tenant_id, actor, ticket_id)
            settings = self.get_settings(meta.tenant_id)
            ticket.change_status(meta, status, reason=reason, cal=settings.calendar(),
                                 by_customer=not actor.staff,
                                 reopen_window_days=settings.reopen_window_days)
            return Saved(ticket, self.save(ticket))

        return self.retrying(command)

    def resolve_by_system(self, meta: Meta, ticket_id: str, note: str) -> Saved:
        """Another context finished the work (a service order): an internal system note and
        `resolved`, in one save. Nothing happens when the ticket is already resolved or closed."""
        def command() -> Saved:
            ticket = self.load(Ticket, ticket_id, meta.tenant_id)
            if ticket.status in ("resolved", "closed"):
                return Saved(ticket, 0)
            cal = self.get_settings(meta.tenant_id).calendar()
            ticket.add_comment(meta, comment_id=uuid.uuid4().hex, body=note, visibility="internal",
                               author_kind="system", cal=cal)
            ticket.change_status(meta, "resolved", reason=note[:500], cal=cal)
            return Saved(ticket, self.save(ticket))

        return self.retrying(command)

    def check_sla(self, meta: Meta, ticket_id: str) -> Saved:
        """System: records the SLA thresholds the ticket crossed by `meta.at` (idempotent)."""
        def command() -> Saved:
            ticket = self.load(Ticket, ticket_id, None)
            m = meta.with_tenant(ticket.tenant_id)
            recorded = ticket.check_sla(m, self.get_settings(ticket.tenant_id).calendar())
            return Saved(ticket, self.save(ticket) if recorded else 0)

        return self.retrying(command)

    # Helpers -------------------------------------------------------------------------
    def _check_customer(self, tenant_id: str, customer_id: str) -> None:
        if self._customers is not None and self._customers(tenant_id, customer_id) is None:
            raise NotFoundError("Customer", customer_id)

    def _check_assignee(self, tenant_id: str, user_id: str) -> None:
        from retaguarda.identity.permissions import permissions_of

        user = self._users(user_id) if self._users else None
        if user is None or user.tenant_id != tenant_id:
            raise ValidationError("assignee_id", "no such user in this workspace")
        if getattr(user, "status", "active") != "active":
            raise ValidationError("assignee_id", "the user is not active")
        if ASSIGNABLE_PERMISSION not in permissions_of(user.role):
            raise ValidationError("assignee_id", f"a {user.role} cannot work on tickets; "
                                  "assign a technician, manager or admin")


def sla_summary(ticket: Ticket) -> dict[str, Any]:
    """Per target: due, warn_at, met_at, paused, warning, breached (for API and pages)."""
    out = {}
    for target in TARGETS:
        clock = ticket.clocks[target]
        met_at = ticket.first_response_at if target == "first_response" else (
            ticket.resolved_at if ticket.status in ("resolved", "closed") else None)
        out[target] = {
            "target_minutes": clock["target_minutes"], "due": clock["due"], "warn_at": clock["warn_at"],
            "met_at": met_at, "paused": clock["since"] is None and met_at is None,
            **ticket.sla_alerts[target],
        }
    return out


def actor_of(principal: Any) -> Actor:
    """Staff when the principal may read or work on tickets; otherwise the portal customer."""
    if principal.can("support:read") or principal.can("support:write"):
        return Actor(user_id=principal.actor)
    return Actor.customer(principal.actor, principal.customer_id)


def ticket_view(ticket: Ticket, actor: Actor, url_prefix: str = "/api/v1/support/tickets") -> dict[str, Any]:
    """The ticket as the caller may see it: customers get public comments only."""
    comments = []
    for c in ticket.visible_comments(include_internal=actor.staff):
        comments.append({**c, "attachments": [
            {**a, "url": f"{url_prefix}/{ticket.id}/attachments/{a['id']}"} for a in c["attachments"]]})
    return {
        "id": str(ticket.id), "number": ticket.number, "customer_id": ticket.customer_id,
        "title": ticket.title, "description": ticket.description, "category": ticket.category,
        "priority": ticket.priority, "channel": ticket.channel, "status": ticket.status,
        "status_reason": ticket.status_reason, "assignee_id": ticket.assignee_id,
        "opened_by": ticket.opened_by, "opened_at": ticket.opened_at,
        "first_response_at": ticket.first_response_at, "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at, "resolution_minutes": ticket.resolution_minutes,
        "business_resolution_minutes": ticket.business_resolution_minutes,
        "first_response_due": ticket.due("first_response"), "resolution_due": ticket.due("resolution"),
        "sla": sla_summary(ticket), "allowed_statuses": list(ticket.allowed_statuses(not actor.staff)),
        "comments": comments, "version": ticket.version,
    }
