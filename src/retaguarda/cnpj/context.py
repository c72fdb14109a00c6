"""The cnpj context: CNPJ checks against public registries, watch-list, alerts, usage metering."""

from __future__ import annotations

from projections.cnpj import projections
from retaguarda.cnpj import actors, api, dashboard, pages, tables
from retaguarda.cnpj.domain import CnpjCheck
from retaguarda.cnpj.install import alert_email, find_stuck_checks, install, run_args, seed_demo, webhook_args
from retaguarda.integrations import Every, PeriodicJob, Reconciler, Trigger
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context

CONTEXT = Context(
    name="cnpj", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    tables=(tables.data_keys, tables.cache, tables.imports),
    jobs=(actors.run_check, actors.scheduled_checks, actors.retention, actors.import_targets,
          actors.alert_webhook),
    triggers=(Trigger(CnpjCheck.Queued, actors.run_check.actor_name, run_args),
              Trigger(CnpjCheck.ChangesDetected, actors.alert_webhook.actor_name, webhook_args),
              Trigger(CnpjCheck.WebhookRetryRequested, actors.alert_webhook.actor_name, webhook_args)),
    periodic=(PeriodicJob("cnpj.scheduled_checks", Every(15 * 60), actors.scheduled_checks.actor_name,
                          "Queues the CNPJ checks due by each target's schedule"),
              PeriodicJob("cnpj.retention", Every(24 * 3600), actors.retention.actor_name,
                          "Purges old CNPJ snapshots and crypto-shreds their personal data")),
    reconcilers=(Reconciler("cnpj_checks", find_stuck_checks),),
    email_templates=(EmailTemplate("cnpj.alert", alert_email),),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
