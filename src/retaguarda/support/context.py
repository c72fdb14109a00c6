"""The support context: tickets with SLA clocks, comments, attachments, technician performance."""

from __future__ import annotations

from projections.support import projections
from retaguarda.integrations import Every, PeriodicJob, Trigger
from retaguarda.notifications.announce import ANNOUNCE, announce_args
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context
from retaguarda.support import actors, api, dashboard, emails, pages
from retaguarda.support.domain import Ticket
from retaguarda.support.install import SLA_JOB, SLA_JOB_EVERY, install, seed_demo

CONTEXT = Context(
    name="support", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.check_sla, actors.sla_alert),
    triggers=(Trigger(Ticket.SlaWarning, actors.SLA_ALERT_ACTOR, actors.alert_args),
              Trigger(Ticket.SlaBreached, actors.SLA_ALERT_ACTOR, actors.alert_args),
              *(Trigger(event, ANNOUNCE, announce_args) for event in (
                  Ticket.Opened, Ticket.Assigned, Ticket.CommentAdded, Ticket.StatusChanged))),
    periodic=(PeriodicJob(SLA_JOB, Every(SLA_JOB_EVERY), actors.CHECK_SLA,
                          "Records SLA warnings (80 %) and breaches (100 %) of open tickets"),),
    email_templates=(EmailTemplate(emails.SLA_ALERT, emails.render_sla_alert),),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
