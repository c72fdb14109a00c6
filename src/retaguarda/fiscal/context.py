"""The fiscal context: NFS-e (Portal Nacional and gateways), certificates, the fiscal book."""

from __future__ import annotations

from projections.fiscal import projections
from retaguarda.fiscal import actors, api, dashboard, pages
from retaguarda.fiscal.domain import Nfse
from retaguarda.fiscal.install import certificate_email, find_stuck_notes, install, note_args, seed_demo
from retaguarda.fiscal.nfcom import context_parts as nfcom
from retaguarda.integrations import Daily, PeriodicJob, Reconciler, Trigger
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context

CONTEXT = Context(
    name="fiscal", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.emit_nfse, actors.consult_nfse, actors.cancel_nfse, actors.check_certificates, *nfcom.JOBS),
    triggers=(Trigger(Nfse.EmissionRequested, actors.EMIT, note_args),
              Trigger(Nfse.EmissionRetryRequested, actors.EMIT, note_args),
              Trigger(Nfse.CancellationRequested, actors.CANCEL, note_args),
              Trigger(Nfse.CancellationRetryRequested, actors.CANCEL, note_args), *nfcom.TRIGGERS),
    periodic=(PeriodicJob(actors.CHECK_CERTIFICATES, Daily("06:00"), actors.CHECK_CERTIFICATES,
                          "Certificate expiry monitor: warns at 30/15/7/1 days and on expiry"),),
    reconcilers=(Reconciler("fiscal_notes", find_stuck_notes), *nfcom.RECONCILERS),
    email_templates=(EmailTemplate("fiscal.certificate_expiry", certificate_email),),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
