"""What the API and pages show of a service order, and the day filter they share."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from retaguarda.field.domain import ServiceOrder
from retaguarda.shared.errors import NotFoundError, PermissionDeniedError, ValidationError
from retaguarda.shared.jsonable import jsonable

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container
    from retaguarda.web.principal import Principal

ZONE = "America/Sao_Paulo"
MAX_SIGNATURE_BYTES = 512 * 1024


def order_view(order: ServiceOrder) -> dict[str, Any]:
    return jsonable({
        "id": str(order.id), "number": order.number, "customer_id": order.customer_id, "kind": order.kind,
        "origin": order.origin, "ticket_id": order.ticket_id, "contract_id": order.contract_id,
        "priority": order.priority, "description": order.description, "address": order.address,
        "status": order.status, "technician_id": order.technician_id, "start": order.window_start,
        "end": order.window_end, "schedule_history": order.schedule_history, "started_at": order.started_at,
        "completed_at": order.completed_at, "checklist": order.checklist, "materials": order.materials,
        "notes": order.notes, "photos": order.photos, "signature": order.signature, "geo": order.geo,
        "reason": order.reason, "opened_at": order.created_on, "version": order.version,
    })


def day_bounds(value: str, zone: str = ZONE) -> tuple[datetime, datetime]:
    """The local day `YYYY-MM-DD` (or dd/mm/aaaa) as a UTC interval [start, end)."""
    from retaguarda.i18n import parse_date

    try:
        day = parse_date(value)
    except (ValueError, TypeError):
        raise ValidationError("date", "date must be YYYY-MM-DD") from None
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today(container: Container, zone: str = ZONE) -> date:
    return container.clock.now().astimezone(ZoneInfo(zone)).date()


def load_for(container: Container, principal: Principal, order_id: str, *, work: bool = False) -> ServiceOrder:
    """The order of the caller's tenant; a technician without `field:write` works only their own."""
    order = container.service_orders.get_order(principal.tenant_id, order_id)
    if work and not principal.can("field:write") and order.technician_id != principal.actor:
        if order.technician_id is None:
            raise PermissionDeniedError("this order is not assigned to you")
        raise NotFoundError("ServiceOrder", order_id)
    return order


def store_signature(container: Container, data_url: str | None) -> dict[str, Any] | None:
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise ValidationError("signature", "the signature is a PNG data URL")
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("signature", "the signature is not valid base64") from None
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationError("signature", "the signature image is too large")
    stored = container.field_photos.put("signature.png", raw)
    if stored["content_type"] != "image/png":
        raise ValidationError("signature", "the signature is a PNG image")
    return {"sha256": stored["sha256"], "size": stored["size"], "content_type": "image/png"}


def can_do_visits(container: Container, tenant_id: str, user_id: str) -> bool:
    """An active user of the tenant whose role works visits (technicians, managers, admins)."""
    from retaguarda.identity.permissions import permissions_of

    user = container.identity.find_user(user_id)
    return (user is not None and user.tenant_id == tenant_id and user.status != "inactive"
            and "field:work" in permissions_of(user.role))
