"""The notifications context: outgoing e-mail (Email aggregate, mailer port, outbox)."""

from __future__ import annotations

from projections.base import Projection
from retaguarda.integrations import Reconciler, Trigger
from retaguarda.notifications import actors, announce, api, inbox_api, pages
from retaguarda.notifications.domain import Email
from retaguarda.notifications.install import email_args, find_stuck_emails, install
from retaguarda.notifications.templates import PLAIN, EmailTemplate
from retaguarda.plugin import Context


def projections() -> list[Projection]:
    from projections.notifications.inbox import Inbox
    from projections.ops.outbox import Outbox

    return [Outbox(), Inbox()]


CONTEXT = Context(
    name="notifications", install=install, routes=[*api.routes, *inbox_api.routes], pages=pages.pages,
    projections=projections,
    jobs=(actors.send_email, announce.announce),
    triggers=(Trigger(Email.Requested, actors.ACTOR, email_args),
              Trigger(Email.RetryRequested, actors.ACTOR, email_args)),
    reconcilers=(Reconciler("emails", find_stuck_emails),),
    email_templates=(PLAIN, EmailTemplate(announce.NOTICE_TEMPLATE, announce.render_notice)),
)
