"""Customer 360 (a web composition over every context): what each context knows about one customer.

Each section reads its context's public query functions (projections), only when the person may
read that context, and links to the "new …" action of that context. The plan comes from the billing
subscription: the customer record's old free-text plan is not a second source.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from retaguarda.shared.clock import as_utc

OPEN_INVOICE_STATUSES = ("issued", "partially_paid", "overdue")
LATEST = 5


def subscriptions_of(conn: Connection, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    from projections.billing.catalogue import list_subscriptions

    return list_subscriptions(conn, tenant_id, customer_id, 1, per_page=20)["items"]


def current_plans(conn: Connection, tenant_id: str, customer_ids: list[str]) -> dict[str, str]:
    """customer id → the plan names of their live subscriptions (for lists): one source, billing."""
    from projections.billing.catalogue import plan_names_by_customer

    return plan_names_by_customer(conn, tenant_id, customer_ids)


def customer_360(conn: Connection, principal: Any, customer: dict[str, Any], now: datetime) -> dict[str, Any]:
    tenant_id, customer_id = principal.tenant_id, customer["id"]
    out: dict[str, Any] = {}
    if principal.can("billing:read"):
        from projections.billing.catalogue import get_account_row
        from projections.billing.invoice_list import list_invoices

        invoices = list_invoices(conn, tenant_id, customer=customer_id, per_page=200)
        open_rows = [i for i in invoices["items"] if i["status"] in OPEN_INVOICE_STATUSES]
        account = get_account_row(conn, tenant_id, customer_id) or {}
        out["billing"] = {
            "subscriptions": subscriptions_of(conn, tenant_id, customer_id),
            "invoices": invoices["items"][:LATEST], "invoice_total": invoices["total"],
            "open_balance": sum((Decimal(i["balance"]) for i in open_rows), Decimal("0.00")),
            "open_count": len(open_rows),
            "overdue_count": sum(1 for i in open_rows if i["status"] == "overdue"),
            "credit": Decimal(account.get("credit") or 0).quantize(Decimal("0.01")),
            "blocked": bool(account.get("blocked")), "block_reason": account.get("block_reason") or "",
        }
    if principal.can("support:read"):
        from projections.support.ticket_queue import list_tickets

        tickets = list_tickets(conn, tenant_id, now, customer=customer_id, per_page=LATEST)
        active = list_tickets(conn, tenant_id, now, customer=customer_id, active=True, per_page=1)
        out["support"] = {"tickets": tickets["items"], "total": tickets["total"], "active": active["total"]}
    if principal.can("customers:read"):  # contracts read with the customers permission
        from projections.contracts.contract_list import list_contracts

        contracts = list_contracts(conn, tenant_id, customer=customer_id, per_page=LATEST)
        out["contracts"] = {"contracts": contracts["items"], "total": contracts["total"]}
    if principal.can("field:read"):
        from projections.field.orders import list_orders

        orders = list_orders(conn, tenant_id, customer=customer_id, per_page=LATEST)
        out["field"] = {"orders": orders["items"], "total": orders["total"]}
    if principal.can("fiscal:read"):
        from projections.fiscal.nfse_list import list_notes

        notes = list_notes(conn, tenant_id, customer=customer_id, per_page=LATEST)
        out["fiscal"] = {"notes": [n for n in notes["items"] if n["customer_id"] == customer_id],
                         "total": notes["total"]}
    if principal.can("cnpj:read") and customer.get("kind") == "company":
        from projections.cnpj.watchlist import list_targets

        found = [t for t in list_targets(conn, tenant_id, search=customer["document"], per_page=5)["items"]
                 if t["cnpj"] == customer["document"]]
        target = dict(found[0]) if found else None
        if target is not None:  # SQLite hands instants back naive: they are UTC
            target["last_checked_at"] = as_utc(target.get("last_checked_at"))
        out["cnpj"] = {"target": target}
    return out
