"""The field context: service orders, technicians' agendas, photos and signatures."""

from __future__ import annotations

from projections.field import projections
from retaguarda.field import actors, api, dashboard, pages
from retaguarda.field.domain import ServiceOrder
from retaguarda.field.install import install, seed_demo
from retaguarda.integrations import Trigger
from retaguarda.notifications.announce import ANNOUNCE, announce_args
from retaguarda.plugin import Context

CONTEXT = Context(
    name="field", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.order_completed,),
    triggers=(Trigger(ServiceOrder.Completed, actors.ORDER_COMPLETED, actors.order_args),
              Trigger(ServiceOrder.Scheduled, ANNOUNCE, announce_args),
              Trigger(ServiceOrder.Completed, ANNOUNCE, announce_args)),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
