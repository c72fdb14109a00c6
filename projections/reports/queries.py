"""Queries over the reports read models: KPIs of a month, the growth series, alerts, and the rows
of each report. Every number comes from `kpi_monthly` and the small per-entity tables of
`projections.reports.kpi` (definitions in `docs/reports.md`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import page_result
from projections.reports.kpi import (
    AMOUNTS,
    COUNTERS,
    ZERO,
    ZONE,
    kpi_monthly,
    reports_churn_reasons,
    reports_customers,
    reports_invoices,
    reports_orders,
    reports_plans,
    reports_tickets,
    reports_watch,
)

KPI_KEYS = (
    "active_customers",
    "inactive_customers",
    "new_customers",
    "churned_customers",
    "churn_rate",
    "mrr",
    "arpu",
    "revenue",
    "default_rate",
    "open_tickets",
    "orders_pending",
    "orders_completed",
    "nfse_issued",
)
EXTRA_KEYS = (
    "revenue_total",
    "nfse_total",
    "sla_compliance",
    "blocked_customers",
    "receivables",
    "overdue_amount",
)
MONEY_KEYS = frozenset(
    {"mrr", "arpu", "revenue", "revenue_total", "nfse_total", "receivables", "overdue_amount"}
)
RATE_KEYS = frozenset({"churn_rate", "default_rate", "sla_compliance"})
CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def shift_month(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def current_month(now: datetime | None = None) -> str:
    local = (now or datetime.now(UTC)).astimezone(ZONE)
    return f"{local.year:04d}-{local.month:02d}"


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _rate(num: Decimal | int, den: Decimal | int) -> str:
    if not den:
        return "0.0000"
    return str((Decimal(num) / Decimal(den)).quantize(RATE, rounding=ROUND_HALF_UP))


def _history(conn: Connection, tenant_id: str, until: str) -> list[Any]:
    t = kpi_monthly
    return list(
        conn.execute(
            sa.select(t).where(t.c.tenant_id == tenant_id, t.c.month <= until).order_by(t.c.month)
        ).all()
    )


def _cumulate(rows: list[Any], months: list[str]) -> dict[str, dict[str, Any]]:
    """For each asked month: its own flows and the stocks at its end."""
    wanted = set(months)
    out: dict[str, dict[str, Any]] = {}
    running: dict[str, Any] = {**dict.fromkeys(COUNTERS, 0), **dict.fromkeys(AMOUNTS, ZERO)}
    by_month = {r.month: r for r in rows}
    all_months = sorted(set(by_month) | wanted)
    for month in all_months:
        row = by_month.get(month)
        flows: dict[str, Any] = {**dict.fromkeys(COUNTERS, 0), **dict.fromkeys(AMOUNTS, ZERO)}
        if row is not None:
            for k in COUNTERS:
                flows[k] = int(getattr(row, k) or 0)
            for k in AMOUNTS:
                flows[k] = Decimal(str(getattr(row, k) or 0))
        for k in (*COUNTERS, *AMOUNTS):
            running[k] = running[k] + flows[k]
        if month in wanted:
            out[month] = {"flows": flows, "stocks": dict(running)}
    return out


def _kpis(state: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    f, s, b = state["flows"], state["stocks"], before["stocks"]
    active = s["active_delta"]
    mrr = s["mrr_delta"]
    return {
        "active_customers": active,
        "inactive_customers": s["inactive_delta"],
        "new_customers": f["new_customers"],
        "churned_customers": f["churned_customers"],
        "churn_rate": _rate(f["churned_customers"], b["active_delta"]),
        "mrr": _money(mrr),
        "arpu": _money(mrr / active) if active else "0.00",
        "revenue": _money(f["revenue"]),
        "default_rate": _rate(s["overdue_delta"], s["receivable_delta"]),
        "open_tickets": s["open_tickets_delta"],
        "orders_pending": s["orders_pending_delta"],
        "orders_completed": f["orders_completed"],
        "nfse_issued": f["nfse_issued"],
        "revenue_total": _money(s["revenue"]),
        "nfse_total": _money(f["nfse_total"]),
        "sla_compliance": _rate(f["tickets_resolved_in_sla"], f["tickets_resolved"]),
        "blocked_customers": s["blocked_delta"],
        "receivables": _money(s["receivable_delta"]),
        "overdue_amount": _money(s["overdue_delta"]),
    }


def change(current: Any, previous: Any) -> str | None:
    """Percent change from `previous` to `current` (2 places), None when there was nothing before."""
    cur, prev = Decimal(str(current)), Decimal(str(previous))
    if prev == 0:
        return None
    return str(((cur - prev) / abs(prev) * 100).quantize(CENT, rounding=ROUND_HALF_UP))


def month_kpis(conn: Connection, tenant_id: str, month: str) -> dict[str, Any]:
    prev, before_prev = shift_month(month, -1), shift_month(month, -2)
    states = _cumulate(_history(conn, tenant_id, month), [before_prev, prev, month])
    current = _kpis(states[month], states[prev])
    previous = _kpis(states[prev], states[before_prev])
    keys = (*KPI_KEYS, *EXTRA_KEYS)
    return {
        "month": month,
        "current": current,
        "previous": previous,
        "change": {k: change(current[k], previous[k]) for k in keys},
    }


def growth(conn: Connection, tenant_id: str, last: str, months: int) -> list[dict[str, Any]]:
    wanted = [shift_month(last, -i) for i in range(months - 1, -1, -1)]
    states = _cumulate(_history(conn, tenant_id, last), wanted)
    return [
        {
            "month": m,
            "active_customers": states[m]["stocks"]["active_delta"],
            "revenue": _money(states[m]["flows"]["revenue"]),
            "new_customers": states[m]["flows"]["new_customers"],
            "churned_customers": states[m]["flows"]["churned_customers"],
            "mrr": _money(states[m]["stocks"]["mrr_delta"]),
        }
        for m in wanted
    ]


def churn(conn: Connection, tenant_id: str, last: str, months: int) -> dict[str, Any]:
    first = shift_month(last, -(months - 1))
    wanted = [shift_month(last, -i) for i in range(months, -1, -1)]
    states = _cumulate(_history(conn, tenant_id, last), wanted)
    items = []
    for m in wanted[1:]:
        start = states[shift_month(m, -1)]["stocks"]["active_delta"]
        f = states[m]["flows"]
        items.append(
            {
                "month": m,
                "active_start": start,
                "new_customers": f["new_customers"],
                "churned_customers": f["churned_customers"],
                "churn_rate": _rate(f["churned_customers"], start),
                "active_end": states[m]["stocks"]["active_delta"],
            }
        )
    r = reports_churn_reasons
    reasons = conn.execute(
        sa.select(r.c.reason, sa.func.sum(r.c.count).label("n"))
        .where(r.c.tenant_id == tenant_id, r.c.month >= first, r.c.month <= last)
        .group_by(r.c.reason)
        .order_by(sa.desc("n"), r.c.reason)
    ).all()
    return {
        "items": items,
        "total": len(items),
        "reasons": [{"reason": x.reason, "count": int(x.n)} for x in reasons],
    }


# Alerts ------------------------------------------------------------------------------------
ALERT_LINKS = {
    "invoices_overdue": "/billing/invoices?status=overdue",
    "customers_blocked": "/customers?status=blocked",
    "contracts_ending": "/contracts",
    "certificates_expiring": "/fiscal/settings",
    "sla_breached": "/support/tickets",
    "nfse_dead_letter": "/fiscal/nfse",
    "cnpj_changes": "/cnpj",
}


def alerts(conn: Connection, tenant_id: str, now: datetime) -> list[dict[str, Any]]:
    def count(table: sa.Table, *where: Any) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where)
            ).scalar()
            or 0
        )

    w = reports_watch
    counts = {
        "invoices_overdue": count(reports_invoices, reports_invoices.c.status == "overdue"),
        "customers_blocked": count(reports_customers, reports_customers.c.status == "blocked"),
        "contracts_ending": count(
            w,
            w.c.kind == "contract",
            w.c.active.is_(True),
            w.c.due_at >= now,
            w.c.due_at < now + timedelta(days=7),
        ),
        "certificates_expiring": count(w, w.c.kind == "certificate", w.c.due_at < now + timedelta(days=30)),
        "sla_breached": count(
            reports_tickets, reports_tickets.c.open.is_(True), reports_tickets.c.breached.is_(True)
        ),
        "nfse_dead_letter": count(w, w.c.kind == "nfse_dead"),
        "cnpj_changes": count(w, w.c.kind == "cnpj_change", w.c.due_at >= now - timedelta(days=7)),
    }
    return [{"kind": k, "count": n, "link": ALERT_LINKS[k]} for k, n in counts.items()]


# Reports -----------------------------------------------------------------------------------
def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _order(table: sa.Table, sort: str, allowed: tuple[str, ...], default: str) -> list[Any]:
    key = sort.lstrip("-") if sort.lstrip("-") in allowed else default
    col = table.c[key]
    return [col.desc() if sort.startswith("-") and key == sort.lstrip("-") else col.asc(), table.c.id]


CUSTOMER_SORTS = ("name", "status", "plan", "city", "created_at", "document")


def customers_report(
    conn: Connection,
    tenant_id: str,
    *,
    status: str = "",
    plan: str = "",
    city: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
    sort: str = "name",
    page: int = 1,
    per_page: int | None = None,
) -> dict[str, Any]:
    t = reports_customers
    where: list[Any] = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    if plan:
        where.append(t.c.plan == plan)
    if city:
        where.append(sa.func.lower(t.c.city) == city.lower())
    if created_from is not None:
        where.append(
            t.c.created_at >= datetime.combine(created_from, datetime.min.time(), ZONE).astimezone(UTC)
        )
    if created_to is not None:
        end = datetime.combine(created_to + timedelta(days=1), datetime.min.time(), ZONE).astimezone(UTC)
        where.append(t.c.created_at < end)
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0)
    q = sa.select(t).where(*where).order_by(*_order(t, sort, CUSTOMER_SORTS, "name"))
    if per_page is not None:
        q = q.limit(per_page).offset((page - 1) * per_page)
    items = [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "document": r.document,
            "email": r.email,
            "plan": r.plan,
            "city": r.city,
            "uf": r.uf,
            "status": r.status,
            "created_at": _as_utc(r.created_at),
            "churned_at": _as_utc(r.churned_at),
        }
        for r in conn.execute(q).all()
    ]
    return page_result(items, total, page, per_page or max(total, 1))


INVOICE_SORTS = ("number", "issue_date", "due_date", "total", "status", "outstanding")


def billing_report(
    conn: Connection,
    tenant_id: str,
    *,
    date_from: date,
    date_to: date,
    status: str = "",
    method: str = "",
    sort: str = "number",
    page: int = 1,
    per_page: int | None = None,
) -> dict[str, Any]:
    """Invoices issued in [date_from, date_to], with totals by status, method and plan."""
    i, c, p = reports_invoices, reports_customers, reports_plans
    where: list[Any] = [i.c.tenant_id == tenant_id, i.c.issue_date >= date_from, i.c.issue_date <= date_to]
    if status:
        where.append(i.c.status == status)
    if method:
        where.append(i.c.method == method)
    base = (
        sa.select(i, c.c.name.label("customer_name"), p.c.name.label("plan_name"))
        .select_from(i.outerjoin(c, c.c.id == i.c.customer_id).outerjoin(p, p.c.id == i.c.plan_id))
        .where(*where)
    )
    total = int(conn.execute(sa.select(sa.func.count()).select_from(i).where(*where)).scalar() or 0)
    q = base.order_by(*_order(i, sort, INVOICE_SORTS, "number"))
    if per_page is not None:
        q = q.limit(per_page).offset((page - 1) * per_page)
    items = [
        {
            "id": r.id,
            "number": r.number,
            "customer": r.customer_name or "",
            "plan": r.plan_name or "",
            "issue_date": r.issue_date,
            "due_date": r.due_date,
            "status": r.status,
            "method": r.method,
            "total": _money(Decimal(str(r.total))),
            "paid": _money(Decimal(str(r.paid))),
            "outstanding": _money(Decimal(str(r.outstanding)) if r.status != "cancelled" else ZERO),
        }
        for r in conn.execute(q).all()
    ]
    sums = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(i.c.total), 0),
            sa.func.coalesce(sa.func.sum(i.c.paid), 0),
            sa.func.coalesce(sa.func.sum(sa.case((i.c.overdue.is_(True), i.c.outstanding), else_=0)), 0),
        ).where(*where, i.c.status != "cancelled")
    ).one()

    def grouped(col: Any) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(
                col.label("key"),
                sa.func.count().label("n"),
                sa.func.coalesce(sa.func.sum(i.c.total), 0).label("amount"),
            )
            .select_from(i.outerjoin(p, p.c.id == i.c.plan_id))
            .where(*where, i.c.status != "cancelled")
            .group_by(col)
            .order_by(col)
        ).all()
        return [
            {"key": r.key or "", "count": int(r.n), "amount": _money(Decimal(str(r.amount)))} for r in rows
        ]

    result = page_result(items, total, page, per_page or max(total, 1))
    result["summary"] = {
        "issued": _money(Decimal(str(sums[0]))),
        "paid": _money(Decimal(str(sums[1]))),
        "overdue": _money(Decimal(str(sums[2]))),
        "by_method": grouped(i.c.method),
        "by_plan": grouped(p.c.name),
    }
    return result


AGING_BUCKETS = (
    ("current", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)


def aging_report(
    conn: Connection, tenant_id: str, today: date, *, page: int = 1, per_page: int | None = None
) -> dict[str, Any]:
    i, c = reports_invoices, reports_customers
    where = [i.c.tenant_id == tenant_id, i.c.receivable.is_(True), i.c.outstanding > 0]
    q = (
        sa.select(i, c.c.name.label("customer_name"))
        .select_from(i.outerjoin(c, c.c.id == i.c.customer_id))
        .where(*where)
        .order_by(i.c.due_date, i.c.number)
    )
    items = []
    buckets = {name: ZERO for name, _lo, _hi in AGING_BUCKETS}
    for r in conn.execute(q).all():
        days = (today - r.due_date).days
        bucket = next(
            name
            for name, lo, hi in AGING_BUCKETS
            if (lo is None or days >= lo) and (hi is None or days <= hi)
        )
        amount = Decimal(str(r.outstanding))
        buckets[bucket] += amount
        items.append(
            {
                "number": r.number,
                "customer": r.customer_name or "",
                "due_date": r.due_date,
                "days_overdue": max(days, 0),
                "bucket": bucket,
                "outstanding": _money(amount),
            }
        )
    total = len(items)
    if per_page is not None:
        items = items[(page - 1) * per_page : page * per_page]
    result = page_result(items, total, page, per_page or max(total, 1))
    result["summary"] = {k: _money(v) for k, v in buckets.items()}
    return result


def technicians_report(conn: Connection, tenant_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Per person in [start, end): tickets resolved (and within SLA, mean resolution) and service
    orders completed / failed (mean duration)."""
    t, o = reports_tickets, reports_orders
    people: dict[str, dict[str, Any]] = {}

    def person(pid: str) -> dict[str, Any]:
        return people.setdefault(
            pid,
            {
                "technician_id": pid,
                "tickets_resolved": 0,
                "tickets_in_sla": 0,
                "resolution_minutes": [],
                "orders_completed": 0,
                "orders_failed": 0,
                "order_minutes": [],
            },
        )

    for r in conn.execute(
        sa.select(t.c.assignee_id, t.c.breached, t.c.resolution_minutes).where(
            t.c.tenant_id == tenant_id,
            t.c.assignee_id.is_not(None),
            t.c.resolved_at >= start,
            t.c.resolved_at < end,
        )
    ).all():
        p = person(r.assignee_id)
        p["tickets_resolved"] += 1
        p["tickets_in_sla"] += 0 if r.breached else 1
        if r.resolution_minutes is not None:
            p["resolution_minutes"].append(r.resolution_minutes)
    for r in conn.execute(
        sa.select(o.c.technician_id, o.c.status, o.c.duration_minutes).where(
            o.c.tenant_id == tenant_id,
            o.c.technician_id.is_not(None),
            o.c.finished_at >= start,
            o.c.finished_at < end,
            o.c.status.in_(("completed", "failed")),
        )
    ).all():
        p = person(r.technician_id)
        p["orders_completed" if r.status == "completed" else "orders_failed"] += 1
        if r.status == "completed" and r.duration_minutes is not None:
            p["order_minutes"].append(r.duration_minutes)
    items = []
    for pid in sorted(people):
        p = people[pid]
        res, om = p.pop("resolution_minutes"), p.pop("order_minutes")
        p["sla_compliance"] = _rate(p["tickets_in_sla"], p["tickets_resolved"])
        p["mean_resolution_minutes"] = round(sum(res) / len(res)) if res else None
        p["mean_order_minutes"] = round(sum(om) / len(om)) if om else None
        items.append(p)
    return {"items": items, "total": len(items)}


def month_range(month: str) -> tuple[datetime, datetime]:
    start = datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=ZONE)
    nxt = shift_month(month, 1)
    end = datetime(int(nxt[:4]), int(nxt[5:7]), 1, tzinfo=ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)
