"""Home-page cards of the cash context: credits waiting in the reconciliation queue, and the
balance of the accounts today."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from retaguarda.i18n import _, format_money
from retaguarda.shared.clock import SAO_PAULO


def cards(conn: Connection, principal: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    if not principal.can("billing:read"):
        return []
    from projections.cash.ledger import cash_book, movements

    today = (now or datetime.now(timezone.utc)).astimezone(SAO_PAULO).date()
    waiting = (
        conn.execute(
            sa.select(sa.func.count())
            .select_from(movements)
            .where(
                movements.c.tenant_id == principal.tenant_id,
                movements.c.status == "unmatched",
                movements.c.kind == "credit",
            )
        ).scalar()
        or 0
    )
    book = cash_book(conn, principal.tenant_id, date_from=today, date_to=today)
    balance = sum((a["closing"] for a in book["accounts"]), start=0)
    return [
        {
            "title": _("credits to reconcile"),
            "value": int(waiting),
            "href": "/cash/reconciliation",
            "tone": "warn" if waiting else "ok",
            "testid": "card-cash-unmatched",
        },
        {
            "title": _("cash balance today"),
            "value": format_money(balance),
            "href": "/cash/book",
            "testid": "card-cash-balance",
        },
    ]
