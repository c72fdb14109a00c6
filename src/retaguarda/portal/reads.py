"""Reads of other contexts' read models the portal needs in more than one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def current_subscription(container: Container, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    """The customer's live subscription (active first, then suspended), from billing's read model."""
    from projections.billing.catalogue import list_subscriptions

    with container.engine.connect() as conn:
        items = list_subscriptions(conn, tenant_id, customer_id, 1, per_page=20)["items"]
    live = [s for s in items if s["status"] == "active"] or [s for s in items if s["status"] == "suspended"]
    return live[0] if live else None
