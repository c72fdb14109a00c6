"""The contracts context: service contracts with versions, templates, e-signature, loyalty fee,
renewal and expiry, followed by billing through events."""

from __future__ import annotations

from projections.contracts import projections
from retaguarda.contracts import actors, api, dashboard, emails, pages
from retaguarda.contracts.domain import Contract
from retaguarda.contracts.install import install, seed_demo
from retaguarda.integrations import Daily, PeriodicJob, Trigger
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context

BILLING_EVENTS = (Contract.Activated, Contract.Amended, Contract.Suspended, Contract.Resumed,
                  Contract.Cancelled, Contract.Expired)

CONTEXT = Context(
    name="contracts", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.follow_billing, actors.expiry_notices, actors.end_of_term),
    triggers=tuple(Trigger(event, actors.BILLING_ACTOR, actors.billing_args) for event in BILLING_EVENTS),
    periodic=(
        PeriodicJob(actors.NOTICES_ACTOR, Daily("07:00"), actors.NOTICES_ACTOR,
                    "Contracts: 30-day expiry notice e-mails (once per contract and end date)"),
        PeriodicJob(actors.END_OF_TERM_ACTOR, Daily("00:30"), actors.END_OF_TERM_ACTOR,
                    "Contracts: renew (auto-renew) or expire contracts whose end date came"),
    ),
    email_templates=tuple(EmailTemplate(name, render) for name, render in emails.TEMPLATES),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
