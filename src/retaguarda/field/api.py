"""JSON API of the field context (`/api/v1/field/...`).

Managers (`field:write`) open, schedule, cancel and work any order; technicians (`field:work`)
start, complete, fail and photograph the orders assigned to them. `field:read` lists and reads.
Completing takes an `Idempotency-Key` header: the same request sent again (a phone that lost
its connection) answers the same and records nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from projections.field.orders import agenda, list_orders, materials_by_month, productivity
from retaguarda.field.dashboard import month_bounds
from retaguarda.field.domain import KINDS, STATUSES
from retaguarda.field.schemas import CancelIn, CompleteIn, FailIn, FromTicketIn, OrderIn, ScheduleIn
from retaguarda.field.views import can_do_visits, day_bounds, load_for, order_view, store_signature, today
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "field:read"}
WRITE = {"permission": "field:write"}
WORK = {"permission": "field:work"}
STATUS_PATTERN = "^(|pending|" + "|".join(STATUSES) + ")$"
MAX_KEY = 200


def _saved(request: Request[Any, Any, Any], saved: Any) -> dict[str, Any]:
    return order_view(saved.aggregate)


@post("/field/orders", opt=WRITE, sync_to_thread=True, summary="Open a service order")
def open_order(request: Request[Any, Any, Any], data: OrderIn) -> Response[dict[str, Any]]:
    container = container_of(request)
    if data.ticket_id:
        from retaguarda.support import Actor

        ticket = container.support.get_ticket(require_principal(request).tenant_id,
                                              Actor(require_principal(request).actor), data.ticket_id)
        if ticket.customer_id != data.customer_id:
            raise ValidationError("ticket_id", "the ticket belongs to another customer")
    saved = container.service_orders.open_order(
        meta_of(request), customer_id=data.customer_id, kind=data.kind, description=data.description,
        priority=data.priority, address=data.address, ticket_id=data.ticket_id)
    body = _saved(request, saved)
    return Response(body, status_code=201, headers={"Location": f"/api/v1/field/orders/{body['id']}"})


@post("/support/tickets/{ticket_id:str}/service-order", opt=WRITE, sync_to_thread=True,
      summary="Open a service order for a ticket's customer")
def from_ticket(request: Request[Any, Any, Any], ticket_id: str, data: FromTicketIn) -> Response[dict[str, Any]]:
    from retaguarda.support import Actor

    p = require_principal(request)
    container = container_of(request)
    ticket = container.support.get_ticket(p.tenant_id, Actor(p.actor), ticket_id)
    priority = data.priority or ticket.priority
    saved = container.service_orders.open_order(
        meta_of(request), customer_id=ticket.customer_id, kind=data.kind,
        description=data.description or ticket.title, priority=priority, ticket_id=str(ticket.id))
    body = _saved(request, saved)
    return Response(body, status_code=201, headers={"Location": f"/api/v1/field/orders/{body['id']}"})


@get("/field/orders", opt=READ, sync_to_thread=True, summary="List service orders")
def list_(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern=STATUS_PATTERN),
    technician: str = "",
    customer: str = "",
    ticket: str = "",
    date: str = Parameter(default="", description="a local day, YYYY-MM-DD: visits starting that day"),
    unscheduled: bool = False,
    page: int = Parameter(default=1, ge=1, le=1_000_000),
    per_page: int = Parameter(default=25, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    start, end = day_bounds(date) if date else (None, None)
    if technician == "me":
        technician = p.actor
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_orders(conn, p.tenant_id, status=status, technician=technician or None,
                                    customer=customer or None, ticket=ticket or None, day_from=start, day_to=end,
                                    unscheduled=unscheduled, page=page, per_page=per_page))


@get("/field/orders/{order_id:str}", opt=READ, sync_to_thread=True, summary="One service order")
def read(request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
    return order_view(load_for(container_of(request), require_principal(request), order_id))


@post("/field/orders/{order_id:str}/schedule", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Schedule or reschedule a visit (409 naming start when the technician is busy)")
def schedule(request: Request[Any, Any, Any], order_id: str, data: ScheduleIn) -> dict[str, Any]:
    container = container_of(request)
    p = require_principal(request)
    if not can_do_visits(container, p.tenant_id, data.technician_id):
        raise ValidationError("technician_id", "not an active technician of this company")
    return _saved(request, container.service_orders.schedule(
        meta_of(request), order_id, technician_id=data.technician_id, start=data.start, end=data.end,
        reason=data.reason))


@post("/field/orders/{order_id:str}/dispatch", opt=WORK, sync_to_thread=True, status_code=200,
      summary="The technician is on the way")
def dispatch(request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
    load_for(container_of(request), require_principal(request), order_id, work=True)
    return _saved(request, container_of(request).service_orders.dispatch(meta_of(request), order_id))


@post("/field/orders/{order_id:str}/start", opt=WORK, sync_to_thread=True, status_code=200,
      summary="Start the visit")
def start(request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
    load_for(container_of(request), require_principal(request), order_id, work=True)
    return _saved(request, container_of(request).service_orders.start(meta_of(request), order_id))


@post("/field/orders/{order_id:str}/complete", opt=WORK, sync_to_thread=True, status_code=200,
      summary="Complete the visit (send an Idempotency-Key header: a repeat records nothing)")
def complete(request: Request[Any, Any, Any], order_id: str, data: CompleteIn) -> dict[str, Any]:
    container = container_of(request)
    load_for(container, require_principal(request), order_id, work=True)
    key = (request.headers.get("idempotency-key") or "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        raise ValidationError("Idempotency-Key", f"at most {MAX_KEY} characters")
    signature = store_signature(container, data.signature)
    return _saved(request, container.service_orders.complete(
        meta_of(request), order_id, checklist=data.checklist, materials=data.materials, notes=data.notes,
        signature=signature, geo=data.geo, completion_key=key))


@post("/field/orders/{order_id:str}/fail", opt=WORK, sync_to_thread=True, status_code=200,
      summary="The visit could not be done (reason: customer_absent, no_access, …)")
def fail(request: Request[Any, Any, Any], order_id: str, data: FailIn) -> dict[str, Any]:
    load_for(container_of(request), require_principal(request), order_id, work=True)
    return _saved(request, container_of(request).service_orders.fail(meta_of(request), order_id,
                                                                     reason=data.reason, notes=data.notes))


@post("/field/orders/{order_id:str}/cancel", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Cancel an order (frees its window)")
def cancel(request: Request[Any, Any, Any], order_id: str, data: CancelIn) -> dict[str, Any]:
    return _saved(request, container_of(request).service_orders.cancel(meta_of(request), order_id,
                                                                       reason=data.reason))


@post("/field/orders/{order_id:str}/photos", opt=WORK, sync_to_thread=True, status_code=201,
      summary="Add a photo (multipart: file; JPEG, PNG or WebP, up to 8 MB)")
def add_photo(request: Request[Any, Any, Any], order_id: str,
              data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict[str, Any]:
    container = container_of(request)
    load_for(container, require_principal(request), order_id, work=True)
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationError("file", "send the photo as multipart/form-data field `file`")
    content = upload.file.read(container.field_photos.max_bytes + 1)
    stored = container.field_photos.put(upload.filename or "photo", content)
    if not stored["content_type"].startswith("image/"):
        raise ValidationError("file", "a photo is a JPEG, PNG, GIF or WebP image")
    return _saved(request, container.service_orders.add_photo(meta_of(request), order_id, stored))


@get("/field/orders/{order_id:str}/files/{sha256:str}", opt=READ, sync_to_thread=True,
     summary="A photo or the signature of an order")
def order_file(request: Request[Any, Any, Any], order_id: str, sha256: str) -> Response[bytes]:
    container = container_of(request)
    order = load_for(container, require_principal(request), order_id)
    known = {p["sha256"]: p["content_type"] for p in order.photos}
    if order.signature:
        known[order.signature["sha256"]] = "image/png"
    if sha256 not in known:
        raise NotFoundError("File", sha256)
    return Response(container.field_photos.read(sha256), media_type=known[sha256],
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


@get("/field/agenda", opt=READ, sync_to_thread=True, summary="A technician's visits of one day, in time order")
def agenda_(request: Request[Any, Any, Any], technician: str = "", date: str = "") -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    technician = p.actor if technician in ("", "me") else technician
    if technician != p.actor and not p.can("field:write") and not p.can("audit:read"):
        raise NotFoundError("Agenda", technician)
    day = date or today(container).isoformat()
    start, end = day_bounds(day)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        items = agenda(conn, p.tenant_id, technician, start, end)
    return jsonable({"technician_id": technician, "date": day, "items": items})


@get("/field/productivity", opt=READ, sync_to_thread=True, summary="Technicians' productivity in a month")
def productivity_(request: Request[Any, Any, Any],
                  month: str = Parameter(default="", pattern=r"^(|\d{4}-\d{2})$")) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    start, end = _month(container, month)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable({"month": start.strftime("%Y-%m"), "items": productivity(conn, p.tenant_id, start, end)})


@get("/field/materials", opt=READ, sync_to_thread=True, summary="Materials used in a month, by SKU")
def materials_(request: Request[Any, Any, Any],
               month: str = Parameter(default="", pattern=r"^(|\d{4}-\d{2})$")) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    start, _ = _month(container, month)
    label = month or start.strftime("%Y-%m")
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable({"month": label, "items": materials_by_month(conn, p.tenant_id, label)})


def _month(container: Container, month: str) -> Any:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    if not month:
        return month_bounds(container.clock.now())
    year, mon = (int(x) for x in month.split("-"))
    if not 1 <= mon <= 12 or not 2000 <= year <= 2100:
        raise ValidationError("month", "month is YYYY-MM")
    return month_bounds(datetime(year, mon, 15, 12, tzinfo=ZoneInfo("America/Sao_Paulo")).astimezone(UTC))


routes = [open_order, from_ticket, list_, read, schedule, dispatch, start, complete, fail, cancel, add_photo,
          order_file, agenda_, productivity_, materials_]
__all__ = ["KINDS", "routes"]
