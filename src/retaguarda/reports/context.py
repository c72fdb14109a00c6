"""The reports context: the executive dashboard, reports and scheduled reports by e-mail."""

from __future__ import annotations

from projections.reports import projections
from retaguarda.integrations import Every, PeriodicJob, Trigger
from retaguarda.plugin import Context
from retaguarda.reports import actors, api, dashboard, pages
from retaguarda.reports.domain import ScheduledReport
from retaguarda.reports.install import install
from retaguarda.reports.templates import SCHEDULED

CONTEXT = Context(
    name="reports",
    install=install,
    routes=api.routes,
    pages=pages.pages,
    projections=projections,
    jobs=(actors.send_report, actors.run_schedules),
    triggers=(Trigger(ScheduledReport.SendRequested, actors.SEND_REPORT, actors.request_args),),
    periodic=(
        PeriodicJob(
            actors.RUN_SCHEDULES,
            Every(60),
            actors.RUN_SCHEDULES,
            "Sends each due scheduled report once per period",
        ),
    ),
    email_templates=(SCHEDULED,),
    dashboard=dashboard.cards,
)
