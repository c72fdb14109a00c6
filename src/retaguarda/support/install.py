"""Installs the support context (service, attachment store, SLA job and alerts) and its demo data."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retaguarda.shared.meta import Meta, new_correlation_id
from retaguarda.support.application import Actor, Support
from retaguarda.support.domain import Ticket
from retaguarda.files import AttachmentStore

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SLA_JOB = "support.sla"
SLA_JOB_EVERY = 60


def install(container: Container) -> None:
    def find_user(user_id: str) -> Any:
        return container.identity.find_user(user_id)

    def find_customer(tenant_id: str, customer_id: str) -> Any:
        from retaguarda.customers import Customer

        try:
            found = container.customers.find(Customer, uuid.UUID(str(customer_id)))
        except ValueError:
            return None
        return found if found is not None and found.tenant_id == tenant_id else None

    container.support = Support(container.store, container.after_write, users=find_user,
                                customers=find_customer)
    from retaguarda.support.notify import routes

    container.announcers[Ticket] = routes
    settings = container.settings
    container.support_attachments = AttachmentStore(settings.attachments_dir
                                                    or settings.var_dir / "attachments")


# Demo data ---------------------------------------------------------------------------------

DEMO_TICKETS = [
    # (customer index, title, priority, channel, category, hours ago, steps)
    (0, "Link down at the headquarters since this morning", "critical", "phone", "Connection down", 3,
     []),
    (2, "Speed drops to 20 Mbps every evening", "medium", "portal", "Slow connection", 30,
     [("assign", None), ("status", "in_progress"), ("reply", "We are checking the line quality at your address."),
      ("note", "Signal at the ONU is -27 dBm; schedule a visit if it stays low.")]),
    (1, "Second copy of the November invoice", "low", "portal", "Billing question", 50,
     [("assign", None), ("reply", "Could you confirm the e-mail address for the invoice?"),
      ("status", "waiting_customer")]),
    (3, "Router reboots by itself", "high", "email", "Equipment", 80,
     [("assign", None), ("status", "in_progress"), ("reply", "We replaced the power supply remotely."),
      ("status", "resolved")]),
    (5, "New installation at the branch office", "medium", "phone", "Installation", 200,
     [("assign", None), ("reply", "Installation booked for Tuesday."), ("status", "resolved"),
      ("status", "closed")]),
    (1, "Wi-Fi does not reach the bedroom", "medium", "portal", "Equipment", 6, []),
]


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Default settings and a few tickets in several states for the demo tenant; idempotent."""
    from retaguarda.seed import CUSTOMERS
    from retaguarda.shared.documents import make_cnpj, make_cpf
    from retaguarda.shared.sequence import Sequence, sequence_id
    from retaguarda.support.application import SEQUENCE

    support: Support = container.support
    now = container.clock.now()
    support.ensure_settings(Meta(tenant_id, actor, new_correlation_id(), now))
    if support.find(Sequence, sequence_id(tenant_id, SEQUENCE)) is not None:
        return  # tickets already seeded (or created by hand)
    technician = container.identity.user_by_email("technician@demo.test")
    tech_id = str(technician.id) if technician is not None else None
    staff = Actor(user_id=actor)
    for index, title, priority, channel, category, hours_ago, steps in DEMO_TICKETS:
        _, kind, base, *_ = CUSTOMERS[index]
        document = make_cpf(base) if kind == "person" else make_cnpj(base)
        customer_id = container.customers.owner_of(f"customer-document:{tenant_id}", document)
        if customer_id is None:
            continue
        at = now - timedelta(hours=hours_ago)
        meta = Meta(tenant_id, actor, new_correlation_id(), at)
        ticket = support.open_ticket(meta, staff, customer_id=customer_id, title=title,
                                     description=f"{title}. Reported by the customer by {channel}.",
                                     priority=priority, channel=channel, category=category).aggregate
        for step, (action, value) in enumerate(steps, start=1):
            at = min(now, at + timedelta(hours=max(1, hours_ago // (len(steps) + 1))))
            m = Meta(tenant_id, tech_id or actor, new_correlation_id(), at)
            who = Actor(user_id=m.actor)
            if action == "assign" and tech_id:
                support.assign(Meta(tenant_id, actor, m.correlation_id, at), str(ticket.id), tech_id)
            elif action == "status":
                support.change_status(m, who, str(ticket.id), value, reason="demo")
            elif action in ("reply", "note"):
                support.add_comment(m, who, str(ticket.id), body=value,
                                    visibility="public" if action == "reply" else "internal")
