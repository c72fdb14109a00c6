"""Jobs of the support context: the periodic SLA check and the SLA alert e-mails.

`support.check_sla` (every minute) finds active tickets whose running clock crossed 80 % or
100 % of a target in the ticket queue and asks the Ticket to record `SlaWarning` /
`SlaBreached` — the aggregate records each at most once per target, so overlapping runs are
harmless. Each such event triggers `support.sla_alert` through the dispatcher; it queues one
e-mail per recipient (the assignee and the tenant's managers; the admins when there is
neither) together with a Claim on `ticket id:version`, in one save, so a redelivered message
never sends the alert twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from eventsourcing.persistence import IntegrityError

from retaguarda.integrations import job
from retaguarda.shared.claims import Claim
from retaguarda.shared.jsonable import jsonable
from retaguarda.shared.meta import Meta
from retaguarda.support.domain import Ticket
from retaguarda.support.emails import SLA_ALERT

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

CHECK_SLA = "support.check_sla"
SLA_ALERT_ACTOR = "support.sla_alert"
ALERT_SCOPE = "support-sla-alert"


@job(actor_name=CHECK_SLA, queue_name="support", max_retries=2, min_backoff=1000, max_backoff=10_000,
     time_limit=300_000)
def check_sla(container: Container) -> str:
    """Records the SLA thresholds crossed since the last run; returns how many tickets changed."""
    from projections.support.ticket_queue import sla_candidates

    now = container.clock.now()
    with container.engine.connect() as conn:
        candidates = sla_candidates(conn, now)
    changed = 0
    meta = Meta(tenant_id="*", actor=f"system:{CHECK_SLA}", correlation_id=uuid.uuid4().hex, at=now)
    for ticket_id in candidates:
        if container.support.check_sla(meta, ticket_id).position:
            changed += 1
    return f"{changed} of {len(candidates)} tickets recorded SLA alerts"


def alert_args(event: Any) -> tuple[str, int, str, str]:
    kind = "breached" if isinstance(event, Ticket.SlaBreached) else "warning"
    return str(event.originator_id), event.originator_version, event.target, kind


@job(actor_name=SLA_ALERT_ACTOR, queue_name="support", max_retries=5, min_backoff=1000, max_backoff=60_000)
def sla_alert(container: Container, ticket_id: str, version: int, target: str, kind: str) -> str:
    """Queues the alert e-mails of one SlaWarning/SlaBreached event (exactly once per event)."""
    service = container.support
    ticket = service.load(Ticket, ticket_id, None, version=version)
    recipients = _recipients(container, ticket.tenant_id, ticket.assignee_id)
    meta = Meta(tenant_id=ticket.tenant_id, actor=f"system:{SLA_ALERT_ACTOR}",
                correlation_id=uuid.uuid4().hex, at=container.clock.now())
    claim = Claim.take(ALERT_SCOPE, f"{ticket_id}:{version}", ticket_id, meta)
    from retaguarda.notifications import Email

    params = {"ticket_id": ticket_id, "number": ticket.number, "title": ticket.title[:150],
              "priority": ticket.priority, "target": target, "kind": kind,
              "due": jsonable(ticket.due(target)) or ""}
    emails = [Email.compose(meta, to, SLA_ALERT, params) for to in recipients]
    try:
        service.save(claim, *emails)
    except IntegrityError:
        return "already alerted"
    return f"{len(emails)} e-mails queued"


def _recipients(container: Container, tenant_id: str, assignee_id: str | None) -> list[str]:
    from projections.identity.user_directory import users

    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.id, users.c.email, users.c.role).where(
            users.c.tenant_id == tenant_id, users.c.active.is_(True))).all()
    found = [r.email for r in rows if r.id == assignee_id]
    found += sorted(r.email for r in rows if r.role == "manager" and r.id != assignee_id)
    if not found:
        found = sorted(r.email for r in rows if r.role == "admin")
    return list(dict.fromkeys(found))
