"""The campaigns context: SMS/RCS/WhatsApp campaigns through several providers, opt-outs, receipts."""

from __future__ import annotations

from projections.campaigns import projections
from retaguarda.campaigns import actors, api, dashboard, pages, tables
from retaguarda.campaigns.install import TRIGGERS, install, seed_demo
from retaguarda.integrations import Every, PeriodicJob
from retaguarda.plugin import Context

CONTEXT = Context(
    name="campaigns", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    tables=(tables.campaign_callbacks,),
    jobs=actors.JOBS,
    triggers=TRIGGERS,
    periodic=(PeriodicJob("campaigns-watchdog", Every(60), actors.watchdog.actor_name,
                          "Re-checks active campaigns (completion, stalled sends, lost fan-out)"),),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
