"""The routing actor: turns an announced event into notices (the bell) and e-mails, once.

Contexts declare, for each event they announce, a trigger to `notifications.announce` with
`announce_args`, and register a router for the aggregate type on the container
(`container.announcers[Ticket] = support.notify.routes`). The actor loads the aggregate at the
event's version, asks its router for routes, resolves audiences to users of the tenant, drops
what each user muted, and saves every notice and e-mail in one atomic save. Notice ids derive
from (event, recipient, kind): a redelivered message fails that save on the first id and does
nothing, so each person is told once per event whatever the retries.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import IntegrityError

from retaguarda.integrations import job
from retaguarda.notifications.domain import Email
from retaguarda.notifications.inbox import Notice, NotificationPreferences, preferences_id
from retaguarda.notifications.routing import Route
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ANNOUNCE = "notifications.announce"
NOTICE_TEMPLATE = "notifications.notice"
STAFF_ROLES = ("admin", "manager", "technician", "finance", "auditor")


def announce_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def _users(container: Container, tenant_id: str) -> list[Any]:
    from projections.identity.user_directory import users

    with container.engine.connect() as conn:
        return list(conn.execute(sa.select(users.c.id, users.c.email, users.c.role,
                                           users.c.customer_id).where(
            users.c.tenant_id == tenant_id, users.c.active.is_(True))).all())


def audience(route: Route, people: list[Any]) -> list[Any]:
    """The active users a route reaches: one user, every user of a role, or a customer's portal users."""
    if route.audience == "user":
        return [p for p in people if p.id == route.target]
    if route.audience == "role":
        chosen = [p for p in people if p.role == route.target]
        return chosen or [p for p in people if p.role == "admin"]
    return [p for p in people if p.role == "customer" and p.customer_id == route.target]


@job(actor_name=ANNOUNCE, queue_name="notifications", max_retries=5, min_backoff=1000, max_backoff=60_000)
def announce(container: Container, aggregate_id: str, version: int) -> str:
    uid = UUID(aggregate_id)
    aggregate = container.store.get(uid, version=version)
    router = container.announcers.get(type(aggregate))
    if router is None:
        return "no router"
    events = list(container.store.events.get(uid, gt=version - 1, lte=version))
    if not events:
        return "no event"
    routes = router(events[0], aggregate)
    if not routes:
        return "nothing to announce"
    tenant_id = aggregate.tenant_id
    meta = Meta(tenant_id=tenant_id, actor=f"system:{ANNOUNCE}", correlation_id=uuid.uuid4().hex,
                at=container.clock.now())
    people = _users(container, tenant_id)
    notices: list[Notice] = []
    emails: list[Email] = []
    for route in routes:
        for person in audience(route, people):
            prefs = container.notifications.find(NotificationPreferences,
                                                 preferences_id(tenant_id, person.id))
            if prefs is None or prefs.wants("inbox", route.kind):
                notices.append(Notice.post(meta, recipient_id=person.id, kind=route.kind, title=route.title,
                                           body=route.body, link=route.link, params=route.params,
                                           source_id=aggregate_id, source_version=version))
            if person.email and (prefs is None or prefs.wants("email", route.kind)):
                emails.append(Email.compose(meta, person.email, NOTICE_TEMPLATE, {
                    "kind": route.kind, "title": route.title, "body": route.body, "link": route.link,
                    **{f"p_{k}": v if isinstance(v, (str, int, bool)) or v is None else str(v)
                       for k, v in route.params.items()}}))
    if not notices and not emails:
        return "everyone muted it"
    if not notices:
        # Only e-mails: a marker notice-free claim keeps them once per event.
        from retaguarda.shared.claims import Claim

        claim = Claim.take("notifications-announce", f"{aggregate_id}:{version}", aggregate_id, meta)
        try:
            container.notifications.save(claim, *emails)
        except IntegrityError:
            return "already announced"
        return f"{len(emails)} e-mails"
    try:
        container.notifications.save(*notices, *emails)
    except IntegrityError:
        return "already announced"
    return f"{len(notices)} notices, {len(emails)} e-mails"


def render_notice(params: dict[str, Any], container: Container) -> tuple[str, str]:
    from retaguarda.i18n import gettext as _
    from retaguarda.i18n import readable_params

    values = readable_params({k[2:]: v for k, v in params.items() if k.startswith("p_")})
    subject = _(str(params["title"]), **values)
    body = _(str(params["body"]), **values) if params.get("body") else ""
    link = str(params.get("link") or "")
    base = container.settings.base_url.rstrip("/")
    lines = [subject, ""]
    if body:
        lines += [body, ""]
    if link:
        lines += [_("Open: %(url)s", url=base + link), ""]
    lines += [_("You can turn these messages off in your profile.")]
    return subject, "\n".join(lines)
