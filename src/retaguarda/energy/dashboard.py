"""Home-page cards of the energy context: bills due within 3 days, cut units, sessions to renew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from retaguarda.i18n import gettext as _
from retaguarda.shared.clock import SAO_PAULO


def cards(conn: Connection, principal: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    if not principal.can("billing:read"):
        return []
    from projections.energy.portfolio import bills_due, energy_accounts, energy_units

    today = (now or datetime.now(UTC)).astimezone(SAO_PAULO).date()
    tenant = principal.tenant_id
    if (
        conn.execute(
            sa.select(sa.func.count())
            .select_from(energy_accounts)
            .where(energy_accounts.c.tenant_id == tenant)
        ).scalar()
        == 0
    ):
        return []
    due = bills_due(conn, tenant, today, today + timedelta(days=3))
    cut = (
        conn.execute(
            sa.select(sa.func.count())
            .select_from(energy_units)
            .where(energy_units.c.tenant_id == tenant, energy_units.c.cut.is_(True))
        ).scalar()
        or 0
    )
    expired = (
        conn.execute(
            sa.select(sa.func.count())
            .select_from(energy_accounts)
            .where(
                energy_accounts.c.tenant_id == tenant,
                energy_accounts.c.status.in_(("expired", "blocked", "failed")),
            )
        ).scalar()
        or 0
    )
    return [
        {
            "title": _("Energy bills due in 3 days"),
            "value": len(due),
            "href": "/energy/due",
            "tone": "warn" if due else "ok",
            "testid": "card-energy-due",
        },
        {
            "title": _("Energy alerts (cut units, sessions to renew)"),
            "value": int(cut) + int(expired),
            "href": "/energy",
            "tone": "warn" if cut or expired else "ok",
            "testid": "card-energy-alerts",
        },
    ]
