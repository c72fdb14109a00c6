"""Home-page cards of billing: revenue this month vs last, overdue total, customers blocked."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from projections.billing.catalogue import count_blocked
from projections.billing.invoice_list import month_revenue, previous_month, receivables
from retaguarda.billing.application import local_date
from retaguarda.i18n import format_money
from retaguarda.i18n import gettext as _


def cards(conn: Any, principal: Any) -> list[dict[str, Any]]:
    if not principal.can("billing:read"):
        return []
    today = local_date(datetime.now(timezone.utc))
    tenant = principal.tenant_id
    this, last = month_revenue(conn, tenant, today.strftime("%Y-%m")), month_revenue(conn, tenant, previous_month(today))
    overdue = receivables(conn, tenant, today)["overdue_total"]
    blocked = count_blocked(conn, tenant)
    return [
        {"title": _("Revenue this month"), "value": _("%(this)s (last month %(last)s)", this=format_money(this), last=format_money(last)), "href": "/billing/receivables",
         "tone": "ok" if this >= last else "warn", "testid": "card-billing-revenue"},
        {"title": _("Overdue"), "value": format_money(overdue), "href": "/billing/invoices?status=overdue",
         "tone": "bad" if overdue > 0 else "ok", "testid": "card-billing-overdue"},
        {"title": _("Customers blocked"), "value": str(blocked), "href": "/customers?status=blocked",
         "tone": "bad" if blocked else "ok", "testid": "card-billing-blocked"},
    ]
