"""Home-page cards of the support context: open tickets, breached now, resolved this month."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Connection

from retaguarda.i18n import gettext as _
from retaguarda.shared.clock import SAO_PAULO


def cards(conn: Connection, principal: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    if not principal.can("support:read"):
        return []
    from projections.support.ticket_queue import dashboard_counts

    now = now or datetime.now(timezone.utc)
    local = now.astimezone(SAO_PAULO)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    counts = dashboard_counts(conn, principal.tenant_id, now, month_start)
    return [
        {"title": _("open tickets"), "value": counts["open"], "href": "/support/tickets?queue=all",
         "tone": "ok", "testid": "card-open-tickets"},
        {"title": _("breached now"), "value": counts["breached"], "href": "/support/tickets?queue=breached",
         "tone": "bad" if counts["breached"] else "ok", "testid": "card-breached-tickets"},
        {"title": _("resolved this month"), "value": counts["resolved_this_month"],
         "href": "/support/performance", "testid": "card-resolved-month"},
    ]
