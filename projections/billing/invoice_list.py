"""Invoices and payments: the invoice list with filters, receivables, revenue, MRR, default rate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.billing.domain import Invoice

MONEY = sa.Numeric(14, 2)

invoices = sa.Table(
    "billing_invoices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("subscription_id", sa.String(36)),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("issue_date", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("credit_applied", MONEY, nullable=False),
    sa.Column("principal_paid", MONEY, nullable=False),
    sa.Column("charges_paid", MONEY, nullable=False),
    sa.Column("balance", MONEY, nullable=False),
    sa.Column("months", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reminders", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, invoices.c.tenant_id, invoices.c.status, invoices.c.due_date)
sa.Index(None, invoices.c.tenant_id, invoices.c.customer_id)
sa.Index(None, invoices.c.tenant_id, invoices.c.number)

payments = sa.Table(
    "billing_payments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("invoice_id", sa.String(36), nullable=False, index=True),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("paid_month", sa.String(7), nullable=False),
    sa.Column("principal", MONEY, nullable=False),
    sa.Column("fine", MONEY, nullable=False),
    sa.Column("interest", MONEY, nullable=False),
    sa.Column("excess", MONEY, nullable=False),
    sa.Column("refunded", MONEY, nullable=False),
    sa.Column("reference", sa.String(200), nullable=False, server_default=""),
)
sa.Index(None, payments.c.tenant_id, payments.c.paid_month)

_ZERO = Decimal("0.00")


def _months(e: Any) -> int:
    if not e.period_start or not e.period_end:
        return 0
    return max(1, round(((e.period_end - e.period_start).days + 1) / 30.4))


class InvoiceList(Projection):
    name = "billing_invoice_list"
    tables = (invoices, payments)

    @handles(Invoice.Created, Invoice.Generated)
    def created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        generated = isinstance(e, Invoice.Generated)
        w.insert(invoices, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, number=e.number, customer_id=e.customer_id,
            subscription_id=e.subscription_id, period_start=e.period_start, period_end=e.period_end,
            due_date=e.due_date, issue_date=e.issue_date if generated else None,
            status=("paid" if e.total <= 0 else "issued") if generated else "draft", total=e.total,
            credit_applied=_ZERO,
            principal_paid=_ZERO, charges_paid=_ZERO, balance=e.total, months=_months(e), reminders=[],
            version=e.originator_version, created_at=e.timestamp, updated_at=e.timestamp))

    @handles(Invoice.Issued, Invoice.PaymentReceived, Invoice.BecameOverdue, Invoice.Cancelled,
             Invoice.Refunded, Invoice.ReminderSent, Invoice.CheckoutStarted, Invoice.RefundRequested,
             Invoice.RefundSent, Invoice.RefundFailed, Invoice.RefundRetryRequested, Invoice.PixChargeAttached)
    def changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(invoices, {"id": str(e.originator_id)})
        if row is None:
            return
        values: dict[str, Any] = {"version": e.originator_version, "updated_at": e.timestamp}
        status = row.status
        credit, principal, charges = Decimal(row.credit_applied), Decimal(row.principal_paid), Decimal(row.charges_paid)
        total = Decimal(row.total)
        if isinstance(e, Invoice.Issued):
            credit = Decimal(e.credit_applied)
            values.update(issue_date=e.issue_date, credit_applied=credit)
            status = "paid" if total - credit <= 0 else "issued"
        elif isinstance(e, Invoice.PaymentReceived):
            principal += Decimal(e.principal)
            charges += Decimal(e.fine) + Decimal(e.interest)
            if status != "cancelled":
                status = "paid" if total - credit - principal <= 0 else (
                    "overdue" if status == "overdue" else "partially_paid")
            w.insert(payments, dict(
                id=e.payment_id, tenant_id=e.tenant_id, invoice_id=str(e.originator_id),
                customer_id=row.customer_id, amount=e.amount, method=e.method, paid_at=e.paid_at,
                paid_month=e.paid_on.strftime("%Y-%m"), principal=e.principal, fine=e.fine,
                interest=e.interest, excess=e.excess, refunded=_ZERO, reference=e.reference))
        elif isinstance(e, Invoice.BecameOverdue):
            status = "overdue"
        elif isinstance(e, Invoice.Cancelled):
            status = "cancelled"
        elif isinstance(e, (Invoice.Refunded, Invoice.RefundSent)):
            principal -= Decimal(e.principal)
            p = w.select_one(payments, {"id": e.payment_id})
            if p is not None:
                w.update(payments, {"id": e.payment_id}, {"refunded": Decimal(p.refunded) + Decimal(e.amount)})
            if status == "paid" and total - credit - principal > 0:
                status = "partially_paid" if principal > 0 else "issued"
        elif isinstance(e, Invoice.ReminderSent):
            values["reminders"] = [*(row.reminders or []), e.key]
        values.update(status=status, principal_paid=principal, charges_paid=charges,
                      balance=total - credit - principal)
        w.update(invoices, {"id": str(e.originator_id)}, values)


# Queries -------------------------------------------------------------------------------

def _customers_table() -> sa.Table:
    from projections.customers.customer_list import customers

    return customers


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    for k in ("total", "credit_applied", "principal_paid", "charges_paid", "balance"):
        d[k] = Decimal(d[k]).quantize(Decimal("0.01"))
    d["paid"] = (d["principal_paid"] + d["charges_paid"]).quantize(Decimal("0.01"))
    return d


def _select() -> Any:
    c = _customers_table()
    return (sa.select(invoices, c.c.name.label("customer_name"), c.c.status.label("customer_status"))
            .select_from(invoices.outerjoin(c, c.c.id == invoices.c.customer_id)))


def invoiced_periods(conn: Connection, tenant_id: str, keys: list[str]) -> set[str]:
    """The `{subscription_id}:{period_start ISO}` keys among `keys` that have an invoice."""
    wanted = {k.rsplit(":", 1)[0] for k in keys}
    if not wanted:
        return set()
    t = invoices
    rows = conn.execute(sa.select(t.c.subscription_id, t.c.period_start).where(
        t.c.tenant_id == tenant_id, t.c.subscription_id.in_(sorted(wanted)))).all()
    found = {f"{r.subscription_id}:{r.period_start.isoformat()}" for r in rows if r.period_start}
    return found & set(keys)


def invoices_of_month(conn: Connection, tenant_id: str, first: date, last: date) -> list[tuple[int, str]]:
    """(number, id) of the invoices given to the customer (not draft or cancelled) whose billing
    period starts in [first, last] — or, without a period, whose due date does — by number."""
    t = invoices
    month = sa.func.coalesce(t.c.period_start, t.c.due_date)
    rows = conn.execute(sa.select(t.c.number, t.c.id).where(
        t.c.tenant_id == tenant_id, t.c.status.notin_(("draft", "cancelled")), month >= first, month <= last)
        .order_by(t.c.number)).all()
    return [(int(r.number), str(r.id)) for r in rows]


def list_invoices(conn: Connection, tenant_id: str, *, status: str = "", customer: str = "",
                  due_from: date | None = None, due_to: date | None = None, page: int = 1,
                  per_page: int = 20) -> dict[str, Any]:
    t = invoices
    where = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    if customer:
        where.append(t.c.customer_id == customer)
    if due_from:
        where.append(t.c.due_date >= due_from)
    if due_to:
        where.append(t.c.due_date <= due_to)
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(_select().where(*where).order_by(t.c.number.desc())
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_row(r) for r in rows], total, page, per_page)


def get_invoice_row(conn: Connection, tenant_id: str, invoice_id: str) -> dict[str, Any] | None:
    r = conn.execute(_select().where(invoices.c.tenant_id == tenant_id, invoices.c.id == invoice_id)).first()
    return _row(r) if r else None


def invoice_payments(conn: Connection, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(payments).where(payments.c.tenant_id == tenant_id,
                                                  payments.c.invoice_id == invoice_id)
                        .order_by(payments.c.paid_at)).all()
    return [dict(r._mapping) for r in rows]


def open_invoices_due(conn: Connection, tenant_id: str, before: date) -> list[Any]:
    """Issued or partially paid invoices due before `before` (to mark overdue)."""
    t = invoices
    return conn.execute(sa.select(t.c.id, t.c.due_date).where(
        t.c.tenant_id == tenant_id, t.c.status.in_(("issued", "partially_paid")), t.c.due_date < before)).all()


def open_invoices(conn: Connection, tenant_id: str) -> list[Any]:
    t = invoices
    c = _customers_table()
    return conn.execute(
        sa.select(t.c.id, t.c.number, t.c.customer_id, t.c.due_date, t.c.status, t.c.balance, t.c.reminders,
                  c.c.email, c.c.name.label("customer_name"), c.c.document)
        .select_from(t.join(c, c.c.id == t.c.customer_id))
        .where(t.c.tenant_id == tenant_id, t.c.status.in_(("issued", "partially_paid", "overdue")))
        .order_by(t.c.due_date)).all()


AGING = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def receivables(conn: Connection, tenant_id: str, today: date) -> dict[str, Any]:
    """Open balance by status, aging buckets of what is past due, default rate."""
    t = invoices
    by_status = {s: {"count": 0, "amount": Decimal("0.00")} for s in
                 ("draft", "issued", "partially_paid", "overdue", "paid", "cancelled")}
    for status, n, amount in conn.execute(sa.select(t.c.status, sa.func.count(), sa.func.sum(t.c.balance))
                                          .where(t.c.tenant_id == tenant_id).group_by(t.c.status)):
        by_status[status] = {"count": n, "amount": Decimal(amount or 0).quantize(Decimal("0.01"))}
    buckets = {name: {"count": 0, "amount": Decimal("0.00")} for name, *_ in AGING}
    current = {"count": 0, "amount": Decimal("0.00")}
    for due, balance in conn.execute(sa.select(t.c.due_date, t.c.balance).where(
            t.c.tenant_id == tenant_id, t.c.status.in_(("issued", "partially_paid", "overdue")))):
        days = (today - due).days
        amount = Decimal(balance)
        if days <= 0:
            current["count"] += 1
            current["amount"] += amount
            continue
        for name, low, high in AGING:
            if days >= max(low, 1) and (high is None or days <= high):
                buckets[name]["count"] += 1
                buckets[name]["amount"] += amount
                break
    due_total = conn.execute(sa.select(sa.func.sum(t.c.total - t.c.credit_applied)).where(
        t.c.tenant_id == tenant_id, t.c.status != "cancelled", t.c.status != "draft",
        t.c.due_date < today)).scalar() or 0
    overdue_total = sum((b["amount"] for b in buckets.values()), Decimal("0.00"))
    rate = (overdue_total / Decimal(due_total) * 100).quantize(Decimal("0.01")) if due_total else Decimal("0.00")
    return {
        "as_of": today, "by_status": by_status, "current": current, "aging": buckets,
        "overdue_total": overdue_total.quantize(Decimal("0.01")),
        "open_total": (overdue_total + current["amount"]).quantize(Decimal("0.01")),
        "default_rate": rate,
    }


def revenue_by_month(conn: Connection, tenant_id: str, months: int = 12) -> list[dict[str, Any]]:
    """Money kept per month (principal + fine + interest, refunds not subtracted), and MRR:
    subscription invoices' totals per month of their period start, spread over the cycle."""
    p = payments
    revenue = {m: Decimal(v or 0) for m, v in conn.execute(
        sa.select(p.c.paid_month, sa.func.sum(p.c.principal + p.c.fine + p.c.interest - p.c.refunded))
        .where(p.c.tenant_id == tenant_id).group_by(p.c.paid_month))}
    t = invoices
    mrr: dict[str, Decimal] = {}
    for start, total, n in conn.execute(sa.select(t.c.period_start, t.c.total, t.c.months).where(
            t.c.tenant_id == tenant_id, t.c.subscription_id.is_not(None), t.c.status != "cancelled",
            t.c.months > 0)):
        key = start.strftime("%Y-%m")
        mrr[key] = mrr.get(key, Decimal(0)) + Decimal(total) / n
    keys = sorted(set(revenue) | set(mrr))[-months:]
    return [{"month": k, "revenue": revenue.get(k, Decimal(0)).quantize(Decimal("0.01")),
             "mrr": mrr.get(k, Decimal(0)).quantize(Decimal("0.01"))} for k in keys]


def payments_by_method(conn: Connection, tenant_id: str) -> dict[str, dict[str, Any]]:
    p = payments
    return {m: {"count": n, "amount": Decimal(a or 0).quantize(Decimal("0.01"))} for m, n, a in conn.execute(
        sa.select(p.c.method, sa.func.count(), sa.func.sum(p.c.amount)).where(p.c.tenant_id == tenant_id)
        .group_by(p.c.method))}


def month_revenue(conn: Connection, tenant_id: str, month: str) -> Decimal:
    p = payments
    v = conn.execute(sa.select(sa.func.sum(p.c.principal + p.c.fine + p.c.interest - p.c.refunded)).where(
        p.c.tenant_id == tenant_id, p.c.paid_month == month)).scalar()
    return Decimal(v or 0).quantize(Decimal("0.01"))


def overdue_past(conn: Connection, tenant_id: str, before: date) -> list[Any]:
    """Overdue invoices due before `before` (candidates for blocking), oldest first per customer."""
    t = invoices
    return conn.execute(sa.select(t.c.id, t.c.number, t.c.customer_id, t.c.due_date).where(
        t.c.tenant_id == tenant_id, t.c.status == "overdue", t.c.due_date < before)
        .order_by(t.c.due_date)).all()


def previous_month(day: date) -> str:
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
