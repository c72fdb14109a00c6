"""What the portal shows, shared by the API and the pages: every query is scoped to the customer
linked to the calling user (another customer's id is simply not found)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.billing.invoice_list import get_invoice_row, list_invoices
from projections.portal.connections import daily_usage, list_sessions
from projections.portal.plan_changes import list_requests, offered_plans
from projections.support.ticket_queue import list_tickets
from retaguarda.billing import pay_path
from retaguarda.portal.reads import current_subscription
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.web.principal import Principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ZONE = ZoneInfo("America/Sao_Paulo")
HIDDEN_INVOICE_STATUSES = ("draft",)
OPEN_INVOICE_STATUSES = ("issued", "partially_paid", "overdue")


def own_customer(p: Principal) -> str:
    """The customer the calling portal user belongs to (404 for a user linked to none)."""
    if not p.customer_id:
        raise NotFoundError("Customer", "me")
    return p.customer_id


def invoice_item(c: Container, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "total": row["total"],
        "balance": row["balance"],
        "due_date": row["due_date"],
        "issue_date": row.get("issue_date"),
        "pay_url": pay_path(c.settings.secret_key, row["id"])
        if row["status"] in OPEN_INVOICE_STATUSES
        else None,
    }


def invoices(c: Container, p: Principal, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    customer_id = own_customer(p)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        result = list_invoices(
            conn, p.tenant_id, customer=customer_id, page=page, per_page=200 if per_page > 200 else per_page
        )
    # Drafts are never shown to the customer (they are not bills yet).
    result["items"] = [
        invoice_item(c, r) for r in result["items"] if r["status"] not in HIDDEN_INVOICE_STATUSES
    ]
    return result


def own_invoice(c: Container, p: Principal, invoice_id: str) -> dict[str, Any]:
    customer_id = own_customer(p)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        row = get_invoice_row(conn, p.tenant_id, invoice_id)
    if row is None or row["customer_id"] != customer_id or row["status"] in HIDDEN_INVOICE_STATUSES:
        raise NotFoundError("Invoice", invoice_id)
    return row


def plan_of(c: Container, p: Principal) -> dict[str, Any] | None:
    sub = current_subscription(c, p.tenant_id, own_customer(p))
    if sub is None:
        return None
    return {
        "id": sub["plan_id"],
        "name": sub["plan_name"],
        "price": Decimal(sub["price"]).quantize(Decimal("0.01")),
        "cycle": sub["cycle"],
        "subscription_id": sub["id"],
        "status": sub["status"],
        "pending_plan_id": sub.get("pending_plan_id"),
        "pending_from": sub.get("pending_from"),
    }


def customer_view(c: Container, p: Principal) -> dict[str, Any]:
    customer = c.customers.get_customer(p.tenant_id, own_customer(p))
    return {
        "id": str(customer.id),
        "name": customer.name,
        "kind": customer.kind,
        "email": customer.email,
        "phones": list(customer.phones),
        "address": customer.address,
        "status": customer.status,
        "radius_username": getattr(customer, "radius_username", ""),
    }


def tickets(
    c: Container, p: Principal, page: int = 1, per_page: int = 20, active: bool = False
) -> dict[str, Any]:
    customer_id = own_customer(p)
    filters: dict[str, Any] = {"customer": customer_id}
    if active:
        filters["status"] = "active"
    with tenant_reader(c.engine, p.tenant_id) as conn:
        result = list_tickets(conn, p.tenant_id, c.clock.now(), page=page, per_page=per_page, **filters)
    result["items"] = [{k: v for k, v in t.items() if k in TICKET_FIELDS} for t in result["items"]]
    return result


TICKET_FIELDS = (
    "id",
    "number",
    "title",
    "status",
    "priority",
    "created_at",
    "opened_at",
    "updated_at",
    "customer_id",
    "category",
)


def plans(c: Container, p: Principal) -> list[dict[str, Any]]:
    with tenant_reader(c.engine, p.tenant_id) as conn:
        return [
            {"id": r["id"], "name": r["name"], "price": r["price"], "cycle": r["cycle"]}
            for r in offered_plans(conn, p.tenant_id)
        ]


def plan_requests(
    c: Container, p: Principal, customer: str = "", status: str = "", page: int = 1, per_page: int = 20
) -> dict[str, Any]:
    with tenant_reader(c.engine, p.tenant_id) as conn:
        return list_requests(
            conn, p.tenant_id, customer=customer, status=status, page=page, per_page=per_page
        )


def parse_range(start: str, end: str, today: date) -> tuple[date, date]:
    """`from`/`to` as dates (YYYY-MM-DD, or instants whose local date is taken); default: the
    last 30 days. Both ends inclusive; at most 366 days."""

    def parse(text: str, field: str) -> date | None:
        if not text:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                field, f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 instant"
            ) from None
        return parsed.astimezone(ZONE).date() if parsed.tzinfo else parsed.date()

    last = parse(end, "to") or today
    first = parse(start, "from") or last - timedelta(days=29)
    if first > last:
        raise ValidationError("from", "from must not be after to")
    if (last - first).days > 366:
        raise ValidationError("from", "the range spans at most 366 days")
    return first, last


def connections(
    c: Container, p: Principal, first: date, last: date, page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    customer_id = own_customer(p)
    start = datetime.combine(first, time.min, tzinfo=ZONE)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=ZONE)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        result = list_sessions(
            conn, p.tenant_id, customer_id, start=start, end=end, page=page, per_page=per_page
        )
        result["daily"] = daily_usage(conn, p.tenant_id, customer_id, first, last)
    result["from"], result["to"] = first, last
    return result


def month_usage(c: Container, p: Principal) -> int:
    today = c.clock.now().astimezone(ZONE).date()
    with tenant_reader(c.engine, p.tenant_id) as conn:
        days = daily_usage(conn, p.tenant_id, own_customer(p), today.replace(day=1), today)
    return sum(d["input_octets"] + d["output_octets"] for d in days)


def export(c: Container, p: Principal) -> dict[str, Any]:
    """Everything the portal knows about the customer (LGPD art. 18 II/V)."""
    customer_id = own_customer(p)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        inv = list_invoices(conn, p.tenant_id, customer=customer_id, per_page=10_000)["items"]
        tks = list_tickets(conn, p.tenant_id, c.clock.now(), page=1, per_page=10_000, customer=customer_id)[
            "items"
        ]
        reqs = list_requests(conn, p.tenant_id, customer=customer_id, per_page=10_000)["items"]
        today = c.clock.now().astimezone(ZONE).date()
        sessions = list_sessions(
            conn,
            p.tenant_id,
            customer_id,
            start=datetime.combine(today - timedelta(days=366), time.min, tzinfo=ZONE),
            end=datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZONE),
            per_page=100_000,
        )["items"]
    return {
        "generated_at": c.clock.now(),
        "customer": customer_view(c, p),
        "plan": plan_of(c, p),
        "invoices": [invoice_item(c, r) for r in inv if r["status"] not in HIDDEN_INVOICE_STATUSES],
        "tickets": [{k: v for k, v in t.items() if k in TICKET_FIELDS} for t in tks],
        "plan_change_requests": reqs,
        "connections": sessions,
    }
