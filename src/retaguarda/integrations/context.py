"""The integrations backbone as a context: broker, dispatcher, scheduler, reconciler, jobs page."""

from __future__ import annotations

from retaguarda.integrations import api, pages
from retaguarda.integrations.install import install
from retaguarda.integrations.reconciler import STUCK_AFTER, reconcile_job
from retaguarda.integrations.scheduler import Every, PeriodicJob, scheduled_jobs
from retaguarda.plugin import Context

CONTEXT = Context(
    name="integrations", install=install, routes=api.routes, pages=pages.pages,
    tables=(scheduled_jobs,),
    jobs=(reconcile_job,),
    periodic=(PeriodicJob("reconcile", Every(int(STUCK_AFTER.total_seconds() // 2)), reconcile_job.actor_name,
                          "Re-sends work stuck pending (e.g. queued e-mails)"),),
)
