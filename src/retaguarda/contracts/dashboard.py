"""Home-page card of the contracts context: contracts ending in the next 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Connection

from retaguarda.i18n import _
from retaguarda.shared.clock import SAO_PAULO

ENDING_DAYS = 7


def cards(conn: Connection, principal: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    if not principal.can("customers:read"):
        return []
    from projections.contracts.contract_list import ending_between

    today = (now or datetime.now(timezone.utc)).astimezone(SAO_PAULO).date()
    last = today + timedelta(days=ENDING_DAYS)
    count = ending_between(conn, principal.tenant_id, today, last)
    return [
        {
            "title": _("contracts ending in 7 days"),
            "value": count,
            "href": f"/contracts?status=open&ending_before={last.isoformat()}",
            "tone": "warn" if count else "ok",
            "testid": "card-contracts-ending",
        }
    ]
