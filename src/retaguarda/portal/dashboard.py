"""Home-page card of the portal context for staff: plan-change requests awaiting a decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from projections.portal.plan_changes import list_requests
from retaguarda.i18n import gettext as _

if TYPE_CHECKING:
    from retaguarda.web.principal import Principal


def cards(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    if not principal.can("customers:write"):
        return []
    pending = list_requests(conn, principal.tenant_id, status="requested", per_page=1)["total"]
    return [
        {
            "title": _("Plan change requests"),
            "value": pending,
            "href": "/portal/requests",
            "tone": "warn" if pending else "ok",
            "testid": "card-plan-requests",
        }
    ]
