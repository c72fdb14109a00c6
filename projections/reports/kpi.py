"""`kpi_monthly`: one row per tenant and month with the business KPIs, built from the events of
customers, billing, support, field, fiscal, contracts and cnpj (see `docs/reports.md`).

Flows (new customers, revenue, NFS-e issued, …) are added to the month in which they happened (the
tenant's zone, America/Sao_Paulo). Stocks (active customers, MRR, open tickets, receivables) are
kept as monthly *deltas*: the value at the end of a month is the sum of the deltas of that month
and every month before it, so the 12-month history is a sum over at most a few hundred small rows
and never a scan of customers or invoices. Small per-entity tables (`reports_customers`,
`reports_invoices`, …) remember what each delta needs (an invoice's open balance, a subscription's
monthly value) and feed the reports and alerts. Everything here is a function of the event log, so
a replay rebuilds the same numbers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.billing.domain import Invoice, Plan, Subscription
from retaguarda.cnpj.domain import CnpjCheck
from retaguarda.contracts.domain import Contract
from retaguarda.customers.domain import Customer
from retaguarda.field.domain import ServiceOrder
from retaguarda.fiscal.domain.certificate import Certificate
from retaguarda.fiscal.domain.nfse import Nfse
from retaguarda.support.domain import Ticket

ZONE = ZoneInfo("America/Sao_Paulo")
ZERO = Decimal("0.00")
MONEY = sa.Numeric(16, 2)
CYCLE_MONTHS = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "annual": 12}

COUNTERS = (
    "new_customers",
    "churned_customers",
    "active_delta",
    "inactive_delta",
    "blocked_delta",
    "payments",
    "tickets_opened",
    "tickets_resolved",
    "tickets_resolved_in_sla",
    "open_tickets_delta",
    "orders_opened",
    "orders_completed",
    "orders_pending_delta",
    "nfse_issued",
    "invoices_issued",
)
AMOUNTS = ("mrr_delta", "revenue", "receivable_delta", "overdue_delta", "nfse_total", "invoiced")

kpi_monthly = sa.Table(
    "kpi_monthly",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTERS],
    *[sa.Column(name, MONEY, nullable=False, server_default="0") for name in AMOUNTS],
)

reports_customers = sa.Table(
    "reports_customers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("document", sa.String(20), nullable=False, server_default=""),
    sa.Column("email", sa.String(254), nullable=False, server_default=""),
    sa.Column("plan", sa.String(100), nullable=False, server_default=""),
    sa.Column("city", sa.String(100), nullable=False, server_default=""),
    sa.Column("uf", sa.String(2), nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("churned_at", sa.DateTime(timezone=True)),
)
sa.Index(None, reports_customers.c.tenant_id, reports_customers.c.status)

reports_churn_reasons = sa.Table(
    "reports_churn_reasons",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("reason", sa.String(500), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
)

reports_plans = sa.Table(
    "reports_plans",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("cycle", sa.String(12), nullable=False),
)

reports_subscriptions = sa.Table(
    "reports_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("mrr", MONEY, nullable=False),
)
sa.Index(None, reports_subscriptions.c.tenant_id, reports_subscriptions.c.plan_id)

reports_invoices = sa.Table(
    "reports_invoices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("outstanding", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False, server_default="0"),
    sa.Column("method", sa.String(10), nullable=False, server_default=""),
    sa.Column("receivable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("issue_date", sa.Date),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("paid_on", sa.Date),
)
sa.Index(None, reports_invoices.c.tenant_id, reports_invoices.c.status)
sa.Index(None, reports_invoices.c.tenant_id, reports_invoices.c.issue_date)

reports_tickets = sa.Table(
    "reports_tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("assignee_id", sa.String(36)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("open", sa.Boolean, nullable=False),
    sa.Column("breached", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution_minutes", sa.Integer),
)

reports_orders = sa.Table(
    "reports_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("technician_id", sa.String(36)),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("duration_minutes", sa.Integer),
)

reports_watch = sa.Table(
    "reports_watch",
    metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True)),
)
"""Things the alerts watch: `certificate` (due = valid until), `contract` (due = end date, active
while in force), `nfse_dead` (an NFS-e whose emission gave up), `cnpj_change` (due = detected)."""

reports_nfse = sa.Table(
    "reports_nfse",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("authorized", sa.Boolean, nullable=False, server_default=sa.false()),
)

TABLES = (
    kpi_monthly,
    reports_nfse,
    reports_customers,
    reports_churn_reasons,
    reports_plans,
    reports_subscriptions,
    reports_invoices,
    reports_tickets,
    reports_orders,
    reports_watch,
)


def month_of(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZONE) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(ZONE)
    return f"{value.year:04d}-{value.month:02d}"


def _dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0"))


def monthly_value(price: Any, cycle: str) -> Decimal:
    months = CYCLE_MONTHS.get(cycle)
    if not months:
        return ZERO
    return (_dec(price) / months).quantize(Decimal("0.01"))


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _end_of_day(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=ZONE).astimezone(UTC) if day else None


class KpiMonthly(Projection):
    name = "kpi_monthly"
    tables = TABLES

    # The monthly row ---------------------------------------------------------------------
    def bump(self, w: Writer, tenant_id: str, month: str, **deltas: Any) -> None:
        deltas = {k: v for k, v in deltas.items() if v}
        if not deltas:
            return
        key = {"tenant_id": tenant_id, "month": month}
        if w.select_one(kpi_monthly, key) is None:
            row: dict[str, Any] = {**key, **dict.fromkeys(COUNTERS, 0), **dict.fromkeys(AMOUNTS, ZERO)}
            for k, v in deltas.items():
                row[k] = row[k] + v
            w.insert(kpi_monthly, row)
            return
        w.execute(
            lambda t: (
                sa.update(t)
                .where(t.c.tenant_id == tenant_id, t.c.month == month)
                .values({k: t.c[k] + v for k, v in deltas.items()})
            ),
            kpi_monthly,
        )

    def at(self, env: Envelope, w: Writer, **deltas: Any) -> None:
        self.bump(w, env.event.tenant_id, month_of(env.event.timestamp), **deltas)

    # Customers ---------------------------------------------------------------------------
    @handles(Customer.Registered)
    def customer_registered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        address = e.address or {}
        w.insert(
            reports_customers,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                name=e.name,
                kind=e.kind,
                document=e.document,
                email=e.email,
                plan=e.plan or "",
                city=address.get("city", ""),
                uf=address.get("uf", ""),
                status="active",
                created_at=_utc(e.timestamp),
                churned_at=None,
            ),
        )
        self.at(env, w, new_customers=1, active_delta=1)

    @handles(Customer.Updated)
    def customer_updated(self, env: Envelope, w: Writer) -> None:
        changes = dict(env.event.changes)
        values: dict[str, Any] = {
            k: changes[k] for k in ("name", "kind", "document", "email", "plan") if k in changes
        }
        if "address" in changes:
            address = changes["address"] or {}
            values.update(city=address.get("city", ""), uf=address.get("uf", ""))
        if values:
            w.update(reports_customers, {"id": str(env.event.originator_id)}, values)

    @handles(Customer.Blocked, Customer.Unblocked, Customer.Deactivated, Customer.Reactivated)
    def customer_status(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(reports_customers, {"id": str(e.originator_id)})
        if row is None:
            return
        was = row.status
        now = {
            Customer.Blocked: "blocked",
            Customer.Unblocked: "active",
            Customer.Deactivated: "inactive",
            Customer.Reactivated: "active",
        }[type(e)]
        values: dict[str, Any] = {"status": now}
        deltas: dict[str, int] = {"blocked_delta": (now == "blocked") - (was == "blocked")}
        if now == "inactive" and was != "inactive":
            deltas.update(churned_customers=1, active_delta=-1, inactive_delta=1)
            values["churned_at"] = _utc(e.timestamp)
            month = month_of(e.timestamp)
            reason = (e.reason or "")[:500]
            key = {"tenant_id": e.tenant_id, "month": month, "reason": reason}
            if w.select_one(reports_churn_reasons, key) is None:
                w.insert(reports_churn_reasons, {**key, "count": 1})
            else:
                w.execute(
                    lambda t: (
                        sa.update(t)
                        .where(t.c.tenant_id == e.tenant_id, t.c.month == month, t.c.reason == reason)
                        .values(count=t.c.count + 1)
                    ),
                    reports_churn_reasons,
                )
        elif was == "inactive" and now != "inactive":
            deltas.update(new_customers=1, active_delta=1, inactive_delta=-1)
            values["churned_at"] = None
        w.update(reports_customers, {"id": str(e.originator_id)}, values)
        self.at(env, w, **deltas)

    # Plans and subscriptions (MRR) -------------------------------------------------------
    @handles(Plan.Created)
    def plan_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_plans,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                name=e.name,
                price=_dec(e.price),
                cycle=e.cycle,
            ),
        )

    @handles(Plan.Changed)
    def plan_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        plan_id = str(e.originator_id)
        plan = w.select_one(reports_plans, {"id": plan_id})
        if plan is None:
            return
        changes = dict(e.changes)
        price = _dec(changes.get("price", plan.price))
        cycle = str(changes.get("cycle", plan.cycle))
        w.update(
            reports_plans,
            {"id": plan_id},
            {"name": changes.get("name", plan.name), "price": price, "cycle": cycle},
        )
        value = monthly_value(price, cycle)
        subs = w.execute(
            lambda t: sa.select(t.c.id, t.c.mrr).where(t.c.plan_id == plan_id, t.c.status == "active"),
            reports_subscriptions,
        ).all()
        delta = sum((value - _dec(s.mrr) for s in subs), ZERO)
        for s in subs:
            w.update(reports_subscriptions, {"id": s.id}, {"mrr": value})
        self.at(env, w, mrr_delta=delta)

    def _plan_value(self, w: Writer, plan_id: str) -> Decimal:
        plan = w.select_one(reports_plans, {"id": plan_id})
        return monthly_value(plan.price, plan.cycle) if plan is not None else ZERO

    @handles(Subscription.Started)
    def subscription_started(self, env: Envelope, w: Writer) -> None:
        e = env.event
        value = self._plan_value(w, e.plan_id)
        w.insert(
            reports_subscriptions,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                customer_id=e.customer_id,
                plan_id=e.plan_id,
                status="active",
                mrr=value,
            ),
        )
        self.at(env, w, mrr_delta=value)

    @handles(Subscription.PlanChangeScheduled)
    def subscription_plan(self, env: Envelope, w: Writer) -> None:
        e = env.event
        sub = w.select_one(reports_subscriptions, {"id": str(e.originator_id)})
        if sub is None:
            return
        value = self._plan_value(w, e.plan_id)
        if sub.status == "active":
            self.at(env, w, mrr_delta=value - _dec(sub.mrr))
            w.update(reports_subscriptions, {"id": sub.id}, {"plan_id": e.plan_id, "mrr": value})
        else:
            w.update(reports_subscriptions, {"id": sub.id}, {"plan_id": e.plan_id})

    @handles(Subscription.Suspended, Subscription.Resumed, Subscription.Cancelled)
    def subscription_status(self, env: Envelope, w: Writer) -> None:
        e = env.event
        sub = w.select_one(reports_subscriptions, {"id": str(e.originator_id)})
        if sub is None:
            return
        now = {
            Subscription.Suspended: "suspended",
            Subscription.Resumed: "active",
            Subscription.Cancelled: "cancelled",
        }[type(e)]
        if sub.status == now:
            return
        if now == "active":
            value = self._plan_value(w, sub.plan_id)
            w.update(reports_subscriptions, {"id": sub.id}, {"status": now, "mrr": value})
            self.at(env, w, mrr_delta=value)
        else:
            delta = -_dec(sub.mrr) if sub.status == "active" else ZERO
            w.update(reports_subscriptions, {"id": sub.id}, {"status": now})
            self.at(env, w, mrr_delta=delta)

    # Invoices (revenue, receivables, default) --------------------------------------------
    @handles(Invoice.Created, Invoice.Generated)
    def invoice_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        plan_id = ""
        if e.subscription_id:
            sub = w.select_one(reports_subscriptions, {"id": str(e.subscription_id)})
            plan_id = sub.plan_id if sub is not None else ""
        total = _dec(e.total)
        generated = isinstance(e, Invoice.Generated)
        receivable = generated and total > 0
        w.insert(
            reports_invoices,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                number=int(e.number),
                customer_id=e.customer_id,
                plan_id=plan_id,
                status=("issued" if total > 0 else "paid") if generated else "draft",
                total=total,
                outstanding=total,
                paid=ZERO,
                method="",
                receivable=receivable,
                overdue=False,
                issue_date=e.issue_date if generated else None,
                due_date=e.due_date,
                paid_on=None,
            ),
        )
        if generated:
            self.at(env, w, invoices_issued=1, invoiced=total, receivable_delta=total if receivable else ZERO)

    @handles(Invoice.Issued)
    def invoice_issued(self, env: Envelope, w: Writer) -> None:
        e = env.event
        inv = w.select_one(reports_invoices, {"id": str(e.originator_id)})
        if inv is None:
            return
        outstanding = max(_dec(inv.total) - _dec(e.credit_applied) - _dec(inv.paid), ZERO)
        w.update(
            reports_invoices,
            {"id": inv.id},
            dict(
                status="issued" if outstanding > 0 else "paid",
                outstanding=outstanding,
                receivable=outstanding > 0,
                issue_date=e.issue_date,
            ),
        )
        self.at(env, w, invoices_issued=1, invoiced=_dec(inv.total), receivable_delta=outstanding)

    @handles(Invoice.PaymentReceived)
    def invoice_paid(self, env: Envelope, w: Writer) -> None:
        e = env.event
        amount = _dec(e.amount)
        self.bump(w, e.tenant_id, month_of(e.paid_on or e.paid_at), revenue=amount, payments=1)
        inv = w.select_one(reports_invoices, {"id": str(e.originator_id)})
        if inv is None:
            return
        principal = min(_dec(e.principal), _dec(inv.outstanding))
        outstanding = _dec(inv.outstanding) - principal
        values: dict[str, Any] = dict(
            outstanding=outstanding, paid=_dec(inv.paid) + amount, method=e.method, paid_on=e.paid_on
        )
        deltas: dict[str, Any] = {}
        if inv.receivable:
            deltas["receivable_delta"] = -principal
            if inv.overdue:
                deltas["overdue_delta"] = -principal
        if inv.status != "cancelled":
            if outstanding <= 0:
                values.update(status="paid", receivable=False, overdue=False)
            else:
                values["status"] = "overdue" if inv.overdue else "partially_paid"
        w.update(reports_invoices, {"id": inv.id}, values)
        self.at(env, w, **deltas)

    @handles(Invoice.BecameOverdue)
    def invoice_overdue(self, env: Envelope, w: Writer) -> None:
        inv = w.select_one(reports_invoices, {"id": str(env.event.originator_id)})
        if inv is None or inv.overdue or not inv.receivable:
            return
        w.update(reports_invoices, {"id": inv.id}, {"status": "overdue", "overdue": True})
        self.at(env, w, overdue_delta=_dec(inv.outstanding))

    @handles(Invoice.Cancelled)
    def invoice_cancelled(self, env: Envelope, w: Writer) -> None:
        inv = w.select_one(reports_invoices, {"id": str(env.event.originator_id)})
        if inv is None:
            return
        deltas: dict[str, Any] = {}
        if inv.receivable:
            deltas["receivable_delta"] = -_dec(inv.outstanding)
            if inv.overdue:
                deltas["overdue_delta"] = -_dec(inv.outstanding)
        w.update(
            reports_invoices, {"id": inv.id}, {"status": "cancelled", "receivable": False, "overdue": False}
        )
        self.at(env, w, **deltas)

    @handles(Invoice.Refunded)
    def invoice_refunded(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self.at(env, w, revenue=-_dec(e.amount))
        inv = w.select_one(reports_invoices, {"id": str(e.originator_id)})
        if inv is None:
            return
        principal = _dec(e.principal)
        values: dict[str, Any] = {"paid": _dec(inv.paid) - _dec(e.amount)}
        if inv.status != "cancelled" and principal > 0:
            values.update(
                outstanding=_dec(inv.outstanding) + principal,
                receivable=True,
                status="partially_paid" if _dec(inv.paid) - _dec(e.amount) > 0 else "issued",
            )
            self.at(env, w, receivable_delta=principal, overdue_delta=principal if inv.overdue else ZERO)
        w.update(reports_invoices, {"id": inv.id}, values)

    # Tickets -----------------------------------------------------------------------------
    @handles(Ticket.Opened)
    def ticket_opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_tickets,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                assignee_id=None,
                status="open",
                open=True,
                breached=False,
                opened_at=_utc(e.timestamp),
                resolved_at=None,
                resolution_minutes=None,
            ),
        )
        self.at(env, w, tickets_opened=1, open_tickets_delta=1)

    @handles(Ticket.Assigned)
    def ticket_assigned(self, env: Envelope, w: Writer) -> None:
        w.update(
            reports_tickets, {"id": str(env.event.originator_id)}, {"assignee_id": env.event.assignee_id}
        )

    @handles(Ticket.SlaBreached)
    def ticket_breached(self, env: Envelope, w: Writer) -> None:
        w.update(reports_tickets, {"id": str(env.event.originator_id)}, {"breached": True})

    @handles(Ticket.StatusChanged)
    def ticket_status(self, env: Envelope, w: Writer) -> None:
        e = env.event
        t = w.select_one(reports_tickets, {"id": str(e.originator_id)})
        if t is None:
            return
        is_open = e.status not in ("resolved", "closed")
        values: dict[str, Any] = {"status": e.status, "open": is_open}
        deltas: dict[str, int] = {"open_tickets_delta": int(is_open) - int(t.open)}
        if e.status == "resolved" or (e.status == "closed" and t.open):
            values.update(resolved_at=_utc(e.timestamp), resolution_minutes=e.resolution_minutes)
            deltas.update(tickets_resolved=1, tickets_resolved_in_sla=int(not t.breached))
        w.update(reports_tickets, {"id": t.id}, values)
        self.at(env, w, **deltas)

    # Service orders ----------------------------------------------------------------------
    @handles(ServiceOrder.Opened)
    def order_opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_orders,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                technician_id=None,
                status="open",
                pending=True,
                started_at=None,
                finished_at=None,
                duration_minutes=None,
            ),
        )
        self.at(env, w, orders_opened=1, orders_pending_delta=1)

    @handles(ServiceOrder.Scheduled)
    def order_scheduled(self, env: Envelope, w: Writer) -> None:
        w.update(
            reports_orders,
            {"id": str(env.event.originator_id)},
            {"technician_id": env.event.technician_id, "status": "scheduled"},
        )

    @handles(ServiceOrder.Started)
    def order_started(self, env: Envelope, w: Writer) -> None:
        w.update(
            reports_orders,
            {"id": str(env.event.originator_id)},
            {"status": "in_progress", "started_at": _utc(env.event.timestamp)},
        )

    @handles(ServiceOrder.Completed, ServiceOrder.Failed, ServiceOrder.Cancelled)
    def order_ended(self, env: Envelope, w: Writer) -> None:
        e = env.event
        o = w.select_one(reports_orders, {"id": str(e.originator_id)})
        if o is None:
            return
        status = {
            ServiceOrder.Completed: "completed",
            ServiceOrder.Failed: "failed",
            ServiceOrder.Cancelled: "cancelled",
        }[type(e)]
        finished = _utc(e.timestamp)
        duration = None
        if o.started_at is not None and finished is not None:
            started = o.started_at if o.started_at.tzinfo else o.started_at.replace(tzinfo=UTC)
            duration = int((finished - started).total_seconds() // 60)
        w.update(
            reports_orders,
            {"id": o.id},
            {"status": status, "pending": False, "finished_at": finished, "duration_minutes": duration},
        )
        self.at(
            env,
            w,
            orders_pending_delta=-1 if o.pending else 0,
            orders_completed=1 if status == "completed" else 0,
        )

    # NFS-e -------------------------------------------------------------------------------
    @handles(Nfse.Drafted)
    def nfse_drafted(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            reports_nfse,
            dict(id=str(e.originator_id), tenant_id=e.tenant_id, amount=_dec(e.amount), authorized=False),
        )

    @handles(Nfse.Corrected)
    def nfse_corrected(self, env: Envelope, w: Writer) -> None:
        changes = dict(env.event.changes)
        if "amount" in changes:
            w.update(reports_nfse, {"id": str(env.event.originator_id)}, {"amount": _dec(changes["amount"])})

    @handles(Nfse.Authorized)
    def nfse_authorized(self, env: Envelope, w: Writer) -> None:
        e = env.event
        nfse_id = str(e.originator_id)
        w.execute(lambda t: sa.delete(t).where(t.c.kind == "nfse_dead", t.c.id == nfse_id), reports_watch)
        row = w.select_one(reports_nfse, {"id": nfse_id})
        if row is None or row.authorized:
            return
        w.update(reports_nfse, {"id": nfse_id}, {"authorized": True})
        self.bump(
            w,
            e.tenant_id,
            month_of(e.authorized_at or e.timestamp),
            nfse_issued=1,
            nfse_total=_dec(row.amount),
        )

    @handles(Nfse.EmissionFailed)
    def nfse_failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        key = {"kind": "nfse_dead", "id": str(e.originator_id)}
        if w.select_one(reports_watch, key) is None:
            w.insert(
                reports_watch, {**key, "tenant_id": e.tenant_id, "active": True, "due_at": _utc(e.timestamp)}
            )

    @handles(Nfse.EmissionRetryRequested)
    def nfse_retry(self, env: Envelope, w: Writer) -> None:
        w.execute(
            lambda t: sa.delete(t).where(t.c.kind == "nfse_dead", t.c.id == str(env.event.originator_id)),
            reports_watch,
        )

    # Certificates, contracts, CNPJ changes (alerts) --------------------------------------
    def _watch(self, w: Writer, kind: str, e: Any, active: bool, due_at: datetime | None) -> None:
        key = {"kind": kind, "id": str(e.originator_id)}
        if w.select_one(reports_watch, key) is None:
            w.insert(reports_watch, {**key, "tenant_id": e.tenant_id, "active": active, "due_at": due_at})
        else:
            w.update(reports_watch, key, {"active": active, "due_at": due_at})

    @handles(Certificate.Uploaded, Certificate.Replaced)
    def certificate(self, env: Envelope, w: Writer) -> None:
        self._watch(w, "certificate", env.event, True, _utc(env.event.valid_until))

    @handles(Contract.Created)
    def contract_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._watch(w, "contract", e, False, _end_of_day(_day((e.terms or {}).get("end_date"))))

    @handles(Contract.Activated, Contract.Resumed)
    def contract_active(self, env: Envelope, w: Writer) -> None:
        w.update(reports_watch, {"kind": "contract", "id": str(env.event.originator_id)}, {"active": True})

    @handles(Contract.Suspended, Contract.Cancelled, Contract.Expired)
    def contract_inactive(self, env: Envelope, w: Writer) -> None:
        w.update(reports_watch, {"kind": "contract", "id": str(env.event.originator_id)}, {"active": False})

    @handles(Contract.Renewed)
    def contract_renewed(self, env: Envelope, w: Writer) -> None:
        w.update(
            reports_watch,
            {"kind": "contract", "id": str(env.event.originator_id)},
            {"due_at": _end_of_day(_day(env.event.end_date))},
        )

    @handles(Contract.Amended)
    def contract_amended(self, env: Envelope, w: Writer) -> None:
        end = _end_of_day(_day((env.event.terms or {}).get("end_date")))
        w.update(reports_watch, {"kind": "contract", "id": str(env.event.originator_id)}, {"due_at": end})

    @handles(CnpjCheck.ChangesDetected)
    def cnpj_changes(self, env: Envelope, w: Writer) -> None:
        self._watch(w, "cnpj_change", env.event, True, _utc(env.event.timestamp))
