"""Home-page cards of the reports context: KPIs with the change against last month (arrow coloured
by whether the move is good or bad for that KPI), the 12-month chart and the alerts, each shown
only to who may see it (finance sees money; technicians see orders and tickets)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from projections.reports import queries as q
from retaguarda.i18n import N_, format_money, format_percent

if TYPE_CHECKING:
    from retaguarda.web.principal import Principal

# key, title, permission, kind of value, True when up is good
CARDS = (
    ("active_customers", N_("Active customers"), "customers:read", "int", True),
    ("new_customers", N_("New customers (month)"), "customers:read", "int", True),
    ("churn_rate", N_("Churn rate (month)"), "customers:read", "rate", False),
    ("revenue", N_("Revenue (month)"), "billing:read", "money", True),
    ("mrr", N_("MRR"), "billing:read", "money", True),
    ("arpu", N_("ARPU"), "billing:read", "money", True),
    ("default_rate", N_("Default rate"), "billing:read", "rate", False),
    ("open_tickets", N_("Open tickets"), "support:read", "int", False),
    ("orders_pending", N_("Pending service orders"), "field:read", "int", False),
    ("nfse_issued", N_("NFS-e issued (month)"), "fiscal:read", "int", True),
)
ALERT_TITLES = {
    "invoices_overdue": (N_("Invoices overdue"), "billing:read"),
    "customers_blocked": (N_("Customers blocked"), "customers:read"),
    "contracts_ending": (N_("Contracts ending in 7 days"), "customers:read"),
    "certificates_expiring": (N_("Certificates expiring"), "fiscal:settings"),  # links to the settings
    "sla_breached": (N_("Tickets past their SLA"), "support:read"),
    "nfse_dead_letter": (N_("NFS-e in dead letter"), "fiscal:read"),
    "cnpj_changes": (N_("CNPJ changes detected"), "cnpj:read"),
}


def display(value: Any, kind: str) -> str:
    if kind == "money":
        return format_money(value)
    if kind == "rate":
        return format_percent(Decimal(str(value)) * 100)
    return str(value)


def trend(change: str | None, up_is_good: bool) -> dict[str, str]:
    if change is None or Decimal(change) == 0:
        return {"arrow": "→", "trend": "flat", "change": "" if change is None else "0,0\xa0%"}
    up = Decimal(change) > 0
    return {
        "arrow": "↑" if up else "↓",
        "trend": "good" if up == up_is_good else "bad",
        "change": format_percent(abs(Decimal(change))),
    }


def chart(series: list[dict[str, Any]], key: str, width: int = 360, height: int = 120) -> dict[str, Any]:
    """Bars of one series as SVG geometry (drawn by the template; the numbers go in a table too)."""
    values = [Decimal(str(s[key])) for s in series]
    top = max([v for v in values if v > 0], default=Decimal(1))
    step = width / max(len(values), 1)
    bars = []
    for i, (s, v) in enumerate(zip(series, values)):
        h = float(max(v, Decimal(0)) / top) * (height - 16)
        bars.append(
            {
                "x": round(i * step + 2, 1),
                "y": round(height - 14 - h, 1),
                "w": round(step - 4, 1),
                "h": round(h, 1),
                "label": s["month"][5:],
                "value": str(s[key]),
            }
        )
    return {"width": width, "height": height, "bars": bars}


def overview(conn: Connection, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    month = q.current_month(now)
    data = q.month_kpis(conn, principal.tenant_id, month)
    cards = []
    for key, title, permission, kind, up_good in CARDS:
        if not principal.can(permission):
            continue
        cards.append(
            {
                "key": key,
                "title": title,
                "value": display(data["current"][key], kind),
                "previous": display(data["previous"][key], kind),
                **trend(data["change"][key], up_good),
                "testid": f"kpi-{key}",
            }
        )
    series = q.growth(conn, principal.tenant_id, month, 12)
    charts = []
    if principal.can("customers:read"):
        charts.append(
            {
                "title": N_("Active customers"),
                "key": "active_customers",
                "money": False,
                **chart(series, "active_customers"),
            }
        )
    if principal.can("billing:read"):
        charts.append({"title": N_("Revenue"), "key": "revenue", "money": True, **chart(series, "revenue")})
    alerts = [
        {**a, "title": ALERT_TITLES[a["kind"]][0]}
        for a in q.alerts(conn, principal.tenant_id, now)
        if principal.can(ALERT_TITLES[a["kind"]][1])
    ]
    return {"month": month, "cards": cards, "series": series, "charts": charts, "alerts": alerts}


def cards(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    if not any(principal.can(p) for p in ("customers:read", "billing:read", "support:read", "field:read")):
        return []
    return [{"include": "reports/_overview.html", "overview": overview(conn, principal)}]
