"""Home-page cards of the field context: pending orders and orders completed this month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from projections.field.orders import counts
from retaguarda.i18n import gettext as _

if TYPE_CHECKING:
    from retaguarda.web.principal import Principal


def month_bounds(now: datetime, zone: str = "America/Sao_Paulo") -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(zone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.astimezone(UTC), end.astimezone(UTC)


def cards(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    if not principal.can("field:read"):
        return []
    start, end = month_bounds(datetime.now(UTC))
    c = counts(conn, principal.tenant_id, start, end)
    return [
        {"title": _("Pending service orders"), "value": c["pending"], "href": "/field/orders?status=pending",
         "tone": "warn" if c["pending"] else "ok", "testid": "card-orders-pending"},
        {"title": _("Service orders completed (month)"), "value": c["completed"],
         "href": "/field/orders?status=completed", "tone": "ok", "testid": "card-orders-completed"},
    ]
