"""The energy context: utility-portal accounts (SMS login), consumer units, solar plants and
their beneficiaries, bills with PIX/barcode and cached PDFs."""

from __future__ import annotations

from projections.energy import projections
from retaguarda.energy import actors, api, dashboard, emails, pages
from retaguarda.energy.domain import ConsumerUnit, EnergyAccount, EnergyBill
from retaguarda.energy.install import install, seed_demo
from retaguarda.integrations import Daily, PeriodicJob, Trigger
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context

CONTEXT = Context(
    name="energy",
    install=install,
    routes=api.routes,
    pages=pages.pages,
    projections=projections,
    jobs=(actors.sync_account, actors.daily_sync, actors.alert),
    triggers=(
        Trigger(EnergyAccount.SyncStarted, actors.SYNC, actors.sync_args),
        Trigger(EnergyBill.Imported, actors.ALERT_JOB, actors.alert_args),
        Trigger(ConsumerUnit.Discovered, actors.ALERT_JOB, actors.alert_args),
        Trigger(ConsumerUnit.Changed, actors.ALERT_JOB, actors.alert_args),
        Trigger(ConsumerUnit.BeneficiariesChanged, actors.ALERT_JOB, actors.alert_args),
        Trigger(EnergyAccount.ConnectionLost, actors.ALERT_JOB, actors.alert_args),
    ),
    periodic=(
        PeriodicJob(
            "energy.daily_sync",
            Daily("05:30"),
            actors.DAILY,
            "Sync every connected utility account; alert bills due in 3 days",
        ),
    ),
    email_templates=(EmailTemplate(emails.ALERT, emails.render_alert),),
    seed_demo=seed_demo,
    dashboard=dashboard.cards,
)
