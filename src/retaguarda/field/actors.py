"""Jobs of the field context: what a completed order changes elsewhere.

`field.order_completed` runs for every `ServiceOrder.Completed`: an order opened from a ticket
resolves that ticket with a system note; an installation re-activates an inactive customer.
Both changes are idempotent by state (a resolved ticket stays as it is), so a redelivered
message changes nothing the second time.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from retaguarda.field.domain import ServiceOrder
from retaguarda.integrations import job
from retaguarda.shared.errors import ConflictError, NotFoundError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ORDER_COMPLETED = "field.order_completed"


def order_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


@job(actor_name=ORDER_COMPLETED, queue_name="field", max_retries=5, min_backoff=1000, max_backoff=60_000)
def order_completed(container: Container, order_id: str, version: int) -> str:
    order = container.service_orders.load(ServiceOrder, order_id, None, version=version)
    meta = Meta(tenant_id=order.tenant_id, actor=f"system:{ORDER_COMPLETED}", correlation_id=uuid.uuid4().hex,
                at=container.clock.now())
    done = []
    if order.ticket_id:
        note = f"Service order {order.number} completed."
        if order.notes:
            note += f" {order.notes}"
        try:
            if container.support.resolve_by_system(meta, order.ticket_id, note[:2000]).position:
                done.append("ticket resolved")
        except (NotFoundError, ConflictError) as exc:
            done.append(f"ticket left as it is ({exc})")
    if order.kind == "installation":
        customer = container.customers.get_customer(order.tenant_id, order.customer_id)
        if customer.status == "inactive":
            container.customers.reactivate_customer(meta, order.customer_id, f"installation {order.number} done")
            done.append("customer activated")
    return ", ".join(done) or "nothing to change"
