"""The portal context: the customer's self-service, plan-change requests, RADIUS sessions."""

from __future__ import annotations

from projections.portal import projections
from retaguarda.integrations import Every, PeriodicJob
from retaguarda.plugin import Context
from retaguarda.portal import actors, api, dashboard, pages
from retaguarda.portal.install import install, seed_demo

CONTEXT = Context(
    name="portal",
    install=install,
    routes=api.routes,
    pages=pages.pages,
    projections=projections,
    jobs=(actors.poll_radius,),
    periodic=(
        PeriodicJob(
            "portal.poll_radius",
            Every(5 * 60),
            actors.POLL_RADIUS,
            "Reads new FreeRADIUS accounting rows of every tenant with a RADIUS source",
        ),
    ),
    seed_demo=seed_demo,
    dashboard=dashboard.cards,
)
