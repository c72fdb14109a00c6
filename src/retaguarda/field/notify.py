"""Which service-order events are announced, and to whom (pure)."""

from __future__ import annotations

from typing import Any

from retaguarda.field.domain import ServiceOrder
from retaguarda.i18n import lazy_gettext as N_
from retaguarda.notifications.routing import Route


def routes(event: Any, order: ServiceOrder) -> list[Route]:
    link = f"/field/orders/{order.id}"
    params = {"number": order.number}
    if isinstance(event, ServiceOrder.Scheduled):
        when = {"start": event.start.isoformat(), "end": event.end.isoformat()}
        title = N_("Visit %(number)s rescheduled") if event.previous else N_("Visit %(number)s scheduled")
        return [
            Route("order_scheduled", "customer", order.customer_id, title,
                  N_("Window: %(start)s to %(end)s."), link="/", params={**params, **when}),
            Route("order_scheduled", "user", event.technician_id, title,
                  N_("Window: %(start)s to %(end)s."), link=link, params={**params, **when}),
        ]
    if isinstance(event, ServiceOrder.Completed):
        done = sum(1 for item in event.checklist if item.get("done"))
        return [Route("order_completed", "customer", order.customer_id, N_("Visit %(number)s completed"),
                      N_("%(done)s of %(total)s checklist items done; %(materials)s materials used."),
                      link="/", params={**params, "done": done, "total": len(event.checklist),
                                              "materials": len(event.materials)})]
    return []
