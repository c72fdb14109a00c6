"""Customers context: the register every other context points to.

The names in `__all__` are the public surface other contexts may use (import-linter checks
it); the read functions answer from customers' own read model, so nobody else reads its table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.customers.application import Customers
from retaguarda.customers.domain import Customer

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection


def get_customer_row(conn: Connection, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    """One customer as shown in lists (None when unknown in this tenant)."""
    from projections.customers.customer_list import get_customer_row as query

    return query(conn, tenant_id, customer_id)


def list_customers(conn: Connection, tenant_id: str, *, search: str = "", status: str = "",
                   page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """A page of customers: `{"items", "total", "page", ...}` (see the customer list projection)."""
    from projections.customers.customer_list import list_customers as query

    return query(conn, tenant_id, search=search, status=status, page=page, per_page=per_page)


def active_customer_choices(conn: Connection, tenant_id: str, *, limit: int = 500,
                            statuses: tuple[str, ...] = ("active",)) -> list[dict[str, str]]:
    """Customers in `statuses` (default: active) as `{"id", "name", "status"}` in name order, for
    pickers."""
    from projections.customers.customer_list import active_customer_choices as query

    return query(conn, tenant_id, limit=limit, statuses=statuses)


__all__ = ["Customer", "Customers", "active_customer_choices", "get_customer_row", "list_customers"]
