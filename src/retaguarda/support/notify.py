"""Which ticket events are announced, and to whom (pure)."""

from __future__ import annotations

from typing import Any

from retaguarda.i18n import lazy_gettext as N_
from retaguarda.notifications.routing import Route
from retaguarda.support.domain import Ticket


def routes(event: Any, ticket: Ticket) -> list[Route]:
    staff_link = f"/support/tickets/{ticket.id}"
    portal_link = f"/support/tickets/{ticket.id}"
    params = {"number": ticket.number, "title": ticket.title}
    if isinstance(event, Ticket.Opened):
        return [Route("ticket_opened", "role", "manager", N_("New ticket %(number)s: %(title)s"),
                      link=staff_link, params=params)]
    if isinstance(event, Ticket.Assigned) and event.assignee_id:
        return [Route("ticket_assigned", "user", event.assignee_id,
                      N_("Ticket %(number)s was assigned to you: %(title)s"), link=staff_link, params=params)]
    if isinstance(event, Ticket.CommentAdded) and event.visibility == "public":
        if event.author_kind == "staff":
            return [Route("ticket_public_reply", "customer", ticket.customer_id,
                          N_("Ticket %(number)s has a new answer"), link=portal_link, params=params)]
        if event.author_kind == "customer" and ticket.assignee_id:
            return [Route("ticket_customer_reply", "user", ticket.assignee_id,
                          N_("The customer answered ticket %(number)s"), link=staff_link, params=params)]
    if isinstance(event, Ticket.StatusChanged) and event.status == "resolved":
        return [Route("ticket_resolved", "customer", ticket.customer_id, N_("Ticket %(number)s was resolved"),
                      N_("Not solved? You can reopen it from the ticket page."), link=portal_link,
                      params=params)]
    return []
