"""The reports as documents: title, filters, typed columns, rows and totals; one builder per kind,
used by the screens, the API and the scheduled sendings alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from projections.reports import queries as q
from retaguarda.i18n import N_
from retaguarda.i18n import gettext as _
from retaguarda.shared.errors import ValidationError

TITLES = {
    "customers": N_("Customers"),
    "billing": N_("Billing"),
    "churn": N_("Churn"),
    "technicians": N_("Technicians"),
    "receivables": N_("Receivables aging"),
}
PERMISSIONS = {
    "customers": "customers:read",
    "billing": "billing:read",
    "churn": "customers:read",
    "technicians": "support:read",
    "receivables": "billing:read",
}


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    type: str = "text"  # text | int | money | rate | date | datetime


@dataclass
class Document:
    kind: str
    title: str
    filters: dict[str, str]
    columns: list[Column]
    items: list[dict[str, Any]]
    total: int
    totals: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    page: int = 1
    per_page: int = 0
    pages: int = 1
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page or self.total,
            "pages": self.pages,
            "totals": self.totals,
            "filters": self.filters,
            **self.extra,
        }


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(name, f"{name} must be a date (YYYY-MM-DD)") from None


def _month(value: Any, name: str = "month") -> str:
    text = str(value or "")
    if (
        len(text) != 7
        or text[4] != "-"
        or not text[:4].isdigit()
        or not text[5:].isdigit()
        or not 1 <= int(text[5:]) <= 12
    ):
        raise ValidationError(name, f"{name} must be YYYY-MM")
    return text


def _months(value: Any) -> int:
    try:
        n = int(value or 12)
    except (TypeError, ValueError):
        raise ValidationError("months", "months must be a whole number from 1 to 36") from None
    if not 1 <= n <= 36:
        raise ValidationError("months", "months must be a whole number from 1 to 36")
    return n


def _sum(items: list[dict[str, Any]], key: str) -> str:
    return str(sum((Decimal(str(i[key])) for i in items), Decimal("0.00")))


def build(
    conn: Connection,
    tenant_id: str,
    kind: str,
    filters: dict[str, Any],
    now: datetime,
    *,
    sort: str = "",
    page: int = 1,
    per_page: int | None = None,
) -> Document:
    """The report `kind` with `filters` (ValidationError naming the bad filter)."""
    today = now.astimezone(q.ZONE).date()
    if kind == "customers":
        status = str(filters.get("status") or "")
        if status and status not in ("active", "blocked", "inactive"):
            raise ValidationError("status", "status must be active, blocked or inactive")
        created_from = _date(filters.get("created_from"), "created_from")
        created_to = _date(filters.get("created_to"), "created_to")
        data = q.customers_report(
            conn,
            tenant_id,
            status=status,
            plan=str(filters.get("plan") or ""),
            city=str(filters.get("city") or ""),
            created_from=created_from,
            created_to=created_to,
            sort=sort or "name",
            page=page,
            per_page=per_page,
        )
        columns = [
            Column("name", _("Name")),
            Column("document", _("Document")),
            Column("kind", _("Kind")),
            Column("email", _("E-mail")),
            Column("plan", _("Plan")),
            Column("city", _("City")),
            Column("uf", "UF"),
            Column("status", _("Status")),
            Column("created_at", _("Customer since"), "datetime"),
        ]
        totals = {"name": _("%(n)s customer(s)", n=data["total"])}
        extra: dict[str, Any] = {}
        shown = {
            "status": status,
            "plan": str(filters.get("plan") or ""),
            "city": str(filters.get("city") or ""),
            "created_from": str(created_from or ""),
            "created_to": str(created_to or ""),
        }
    elif kind == "billing":
        month = q.current_month(now)
        start_default, end_default = q.month_range(month)
        date_from = _date(filters.get("from"), "from") or start_default.astimezone(q.ZONE).date()
        date_to = _date(filters.get("to"), "to") or today
        if date_to < date_from:
            raise ValidationError("to", "to must not be before from")
        data = q.billing_report(
            conn,
            tenant_id,
            date_from=date_from,
            date_to=date_to,
            status=str(filters.get("status") or ""),
            method=str(filters.get("method") or ""),
            sort=sort or "number",
            page=page,
            per_page=per_page,
        )
        del end_default
        columns = [
            Column("number", _("Number"), "int"),
            Column("customer", _("Customer")),
            Column("plan", _("Plan")),
            Column("issue_date", _("Issued"), "date"),
            Column("due_date", _("Due"), "date"),
            Column("status", _("Status")),
            Column("method", _("Method")),
            Column("total", _("Total"), "money"),
            Column("paid", _("Paid"), "money"),
            Column("outstanding", _("Outstanding"), "money"),
        ]
        s = data["summary"]
        totals = {
            "customer": _("%(n)s invoice(s)", n=data["total"]),
            "total": s["issued"],
            "paid": s["paid"],
            "outstanding": _sum(data["items"], "outstanding") if per_page is None else "",
        }
        extra = {"summary": s}
        shown = {
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "status": str(filters.get("status") or ""),
            "method": str(filters.get("method") or ""),
        }
    elif kind == "churn":
        months = _months(filters.get("months"))
        last = _month(filters.get("month")) if filters.get("month") else q.current_month(now)
        data = q.churn(conn, tenant_id, last, months)
        columns = [
            Column("month", _("Month")),
            Column("active_start", _("Active at start"), "int"),
            Column("new_customers", _("New"), "int"),
            Column("churned_customers", _("Churned"), "int"),
            Column("churn_rate", _("Churn rate"), "rate"),
            Column("active_end", _("Active at end"), "int"),
        ]
        totals = {
            "month": _("Total"),
            "new_customers": sum(i["new_customers"] for i in data["items"]),
            "churned_customers": sum(i["churned_customers"] for i in data["items"]),
        }
        extra = {"reasons": data["reasons"]}
        shown = {"months": str(months), "month": last}
    elif kind == "technicians":
        month = _month(filters.get("month")) if filters.get("month") else q.current_month(now)
        start, end = q.month_range(month)
        data = q.technicians_report(conn, tenant_id, start, end)
        columns = [
            Column("technician_id", _("Technician")),
            Column("tickets_resolved", _("Tickets resolved"), "int"),
            Column("sla_compliance", _("Within SLA"), "rate"),
            Column("mean_resolution_minutes", _("Mean resolution (min)"), "int"),
            Column("orders_completed", _("Orders completed"), "int"),
            Column("orders_failed", _("Orders failed"), "int"),
            Column("mean_order_minutes", _("Mean order time (min)"), "int"),
        ]
        totals = {
            "technician_id": _("Total"),
            "tickets_resolved": sum(i["tickets_resolved"] for i in data["items"]),
            "orders_completed": sum(i["orders_completed"] for i in data["items"]),
            "orders_failed": sum(i["orders_failed"] for i in data["items"]),
        }
        extra = {}
        shown = {"month": month}
    elif kind == "receivables":
        data = q.aging_report(conn, tenant_id, today, page=page, per_page=per_page)
        columns = [
            Column("number", _("Number"), "int"),
            Column("customer", _("Customer")),
            Column("due_date", _("Due"), "date"),
            Column("days_overdue", _("Days overdue"), "int"),
            Column("bucket", _("Bucket")),
            Column("outstanding", _("Outstanding"), "money"),
        ]
        totals = {
            "customer": _("%(n)s invoice(s)", n=data["total"]),
            "outstanding": str(sum((Decimal(v) for v in data["summary"].values()), Decimal("0.00"))),
        }
        extra = {"summary": data["summary"]}
        shown = {"date": today.isoformat()}
    else:
        from retaguarda.shared.errors import NotFoundError

        raise NotFoundError("Report", kind)
    return Document(
        kind=kind,
        title=_(TITLES[kind]),
        filters={k: v for k, v in shown.items() if v},
        columns=columns,
        items=data["items"],
        total=data["total"],
        totals=totals,
        extra=extra,
        page=data.get("page", 1),
        per_page=data.get("per_page", data["total"]),
        pages=data.get("pages", 1),
        generated_at=now,
    )
