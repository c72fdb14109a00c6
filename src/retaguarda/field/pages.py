"""HTML pages of the field context: orders list, new order, order page, the technician's day
(phone first, works through a lost connection), the dispatcher board, and the notification inbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.customers.customer_list import customers as customers_table
from projections.field.orders import agenda, list_orders
from projections.identity.user_directory import users as users_table
from projections.notifications.inbox import inbox
from retaguarda.field.application import Field
from retaguarda.field.domain import FAIL_REASONS, KINDS, PRIORITIES, STATUSES
from retaguarda.field.views import (
    ZONE,
    can_do_visits,
    day_bounds,
    load_for,
    order_view,
    store_signature,
    today,
)
from retaguarda.i18n import gettext as _
from retaguarda.i18n import lazy_gettext as N_
from retaguarda.notifications.inbox_api import translated
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "field:read"}
WRITE = {"permission": "field:write"}
WORK = {"permission": "field:work"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)

KIND_LABELS = {"installation": N_("Installation"), "repair": N_("Repair"), "removal": N_("Removal"),
               "relocation": N_("Relocation"), "maintenance": N_("Maintenance"), "visit": N_("Visit")}
STATUS_LABELS = {"open": N_("Open"), "scheduled": N_("Scheduled"), "en_route": N_("On the way"),
                 "in_progress": N_("In progress"), "completed": N_("Completed"), "failed": N_("Not done"),
                 "cancelled": N_("Cancelled"), "pending": N_("Pending")}
PRIORITY_LABELS = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High"), "critical": N_("Critical")}
FAIL_LABELS = {"customer_absent": N_("Customer absent"), "no_access": N_("No access to the site"),
               "equipment_missing": N_("Equipment missing"), "weather": N_("Weather"), "other": N_("Other")}


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "priority_labels": PRIORITY_LABELS,
            "fail_labels": FAIL_LABELS}


def _people(conn: Any, tenant_id: str) -> dict[str, str]:
    u = users_table
    return {r.id: (r.name or r.email) for r in conn.execute(
        sa.select(u.c.id, u.c.name, u.c.email).where(u.c.tenant_id == tenant_id))}


def _technicians(conn: Any, tenant_id: str) -> list[dict[str, str]]:
    u = users_table
    rows = conn.execute(sa.select(u.c.id, u.c.name, u.c.email).where(
        u.c.tenant_id == tenant_id, u.c.role == "technician", u.c.active.is_(True)).order_by(u.c.name)).all()
    return [{"id": r.id, "name": r.name or r.email} for r in rows]


def _customers(conn: Any, tenant_id: str, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    c = customers_table
    query = sa.select(c.c.id, c.c.name, c.c.phones, c.c.address, c.c.status).where(c.c.tenant_id == tenant_id)
    if ids is not None:
        if not ids:
            return {}
        query = query.where(c.c.id.in_(ids))
    else:
        query = query.where(c.c.status != "inactive").order_by(c.c.search_name).limit(1000)
    return {r.id: {"id": r.id, "name": r.name, "phones": r.phones or [], "address": r.address or {},
                   "status": r.status} for r in conn.execute(query)}


def _local_day(value: str, container: Container) -> str:
    if not value:
        return today(container).isoformat()
    day_bounds(value)  # validates
    return value


# Orders list ------------------------------------------------------------------------------------
@get("/field/orders", opt=READ, sync_to_thread=True, include_in_schema=False)
def orders(request: Request[Any, Any, Any], status: str = "pending", technician: str = "", date: str = "",
           page: str = "1") -> Template:
    p = require_principal(request)
    container = container_of(request)
    status = status if status in ("", "pending", *STATUSES) else "pending"
    try:
        page_no = max(1, min(int(page), 100_000))
    except ValueError:
        raise ValidationError("page", _("page must be a number")) from None
    start, end = day_bounds(date) if date else (None, None)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        result = list_orders(conn, p.tenant_id, status=status, technician=technician or None, day_from=start,
                             day_to=end, page=page_no)
        names = _people(conn, p.tenant_id)
        techs = _technicians(conn, p.tenant_id)
        customers = _customers(conn, p.tenant_id, sorted({o["customer_id"] for o in result["items"]}))

    def page_url(n: int) -> str:
        return "/field/orders?" + urlencode({"status": status, "technician": technician, "date": date, "page": n})

    return Template("field/orders.html", context={
        "result": result, "status": status, "technician": technician, "date": date, "statuses": STATUSES,
        "names": names, "techs": techs, "customers": customers, "page_url": page_url,
        "can_write": p.can("field:write"), **_labels()})


# New order --------------------------------------------------------------------------------------
def _new_context(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        customers = _customers(conn, p.tenant_id)
    return {"values": values, "errors": errors, "customers": list(customers.values()), "kinds": KINDS,
            "priorities": PRIORITIES, **_labels()}


@get("/field/orders/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_order(request: Request[Any, Any, Any], customer: str = "", ticket: str = "") -> Template:
    return Template("field/new.html", context=_new_context(
        request, {"customer_id": customer, "ticket_id": ticket, "kind": "installation", "priority": "medium"}, {}))


@post("/field/orders/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create_order(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    address = {k: data.get(f"address_{k}", "") for k in ("street", "number", "district", "city", "state", "cep")}
    address = {k: v for k, v in address.items() if v}
    try:
        saved = container_of(request).service_orders.open_order(
            meta_of(request), customer_id=data.get("customer_id", ""), kind=data.get("kind", ""),
            description=data.get("description", ""), priority=data.get("priority", "medium"),
            address=address or None, ticket_id=data.get("ticket_id") or None)
    except ValidationError as exc:
        return Template("field/new.html", status_code=422, context=_new_context(request, data, exc.errors))
    return Redirect(f"/field/orders/{saved.aggregate.id}?created=1")


# Order page -------------------------------------------------------------------------------------
def _detail_context(request: Request[Any, Any, Any], order_id: str, flash: str | None = None,
                    kind: str = "ok") -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    order = load_for(container, p, order_id)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        names = _people(conn, p.tenant_id)
        techs = _technicians(conn, p.tenant_id)
        customer = _customers(conn, p.tenant_id, [order.customer_id]).get(order.customer_id)
    local = ZoneInfo(ZONE)
    start = order.window_start.astimezone(local) if order.window_start else None
    end = order.window_end.astimezone(local) if order.window_end else None
    return {"o": order_view(order), "names": names, "techs": techs, "customer": customer, "flash": flash,
            "flash_kind": kind, "can_write": p.can("field:write"),
            "can_work": p.can("field:write") or order.technician_id == p.actor,
            "checklist": Field.checklist_for(order.kind), "fail_reasons": FAIL_REASONS,
            "form": {"date": start.date().isoformat() if start else today(container).isoformat(),
                     "start": start.strftime("%H:%M") if start else "09:00",
                     "end": end.strftime("%H:%M") if end else "10:00"}, **_labels()}


@get("/field/orders/{order_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def order_page(request: Request[Any, Any, Any], order_id: str, created: int = 0) -> Template:
    return Template("field/detail.html", context=_detail_context(request, order_id,
                                                                 _("Service order opened.") if created else None))


def _act(request: Request[Any, Any, Any], order_id: str, action: Any, back: str = "") -> Any:
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        return Template("field/detail.html", status_code=422 if isinstance(exc, ValidationError) else 409,
                        context=_detail_context(request, order_id, _(exc.message), "error"))
    return Redirect(back or f"/field/orders/{order_id}")


@post("/field/orders/{order_id:str}/schedule", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def schedule(request: Request[Any, Any, Any], order_id: str, data: dict[str, Any] = FORM) -> Any:
    container = container_of(request)
    p = require_principal(request)

    def action() -> Any:
        tech = data.get("technician_id", "")
        if not can_do_visits(container, p.tenant_id, tech):
            raise ValidationError("technician_id", _("Choose a technician."))
        day = data.get("date", "")
        try:
            start_at = _local(day, data.get("start", ""))
            end_at = _local(day, data.get("end", ""))
        except ValueError:
            raise ValidationError("start", _("Give the day and the start and end times.")) from None
        return container.service_orders.schedule(meta_of(request), order_id, technician_id=tech, start=start_at,
                                                 end=end_at, reason=data.get("reason", ""))

    return _act(request, order_id, action, data.get("back", ""))


def _local(day: str, hhmm: str) -> datetime:
    from retaguarda.i18n import parse_date

    d = parse_date(day)
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(ZONE))


@post("/field/orders/{order_id:str}/{action:str}", opt=WORK, sync_to_thread=True, include_in_schema=False)
def transition(request: Request[Any, Any, Any], order_id: str, action: str, data: dict[str, Any] = FORM) -> Any:
    container = container_of(request)
    p = require_principal(request)
    service = container.service_orders
    meta = meta_of(request)
    if action == "cancel" and not p.can("field:write"):
        raise NotFoundError("ServiceOrder", order_id)
    load_for(container, p, order_id, work=True)
    commands = {
        "dispatch": lambda: service.dispatch(meta, order_id),
        "start": lambda: service.start(meta, order_id),
        "fail": lambda: service.fail(meta, order_id, reason=data.get("reason", ""), notes=data.get("notes", "")),
        "cancel": lambda: service.cancel(meta, order_id, reason=data.get("reason", "")),
    }
    if action not in commands:
        raise NotFoundError("Action", action)
    return _act(request, order_id, commands[action], data.get("back", ""))


@post("/field/orders/{order_id:str}/complete", opt=WORK, sync_to_thread=True, status_code=200,
      include_in_schema=False)
def complete(request: Request[Any, Any, Any], order_id: str, data: dict[str, Any]) -> Response[dict[str, Any]]:
    """From the agenda's script (JSON, CSRF header, Idempotency-Key): answers JSON, never a page."""
    container = container_of(request)
    load_for(container, require_principal(request), order_id, work=True)
    key = (request.headers.get("idempotency-key") or "").strip()[:200] or None
    try:
        signature = store_signature(container, data.get("signature"))
        saved = container.service_orders.complete(
            meta_of(request), order_id, checklist=data.get("checklist") or [], materials=data.get("materials") or [],
            notes=data.get("notes", ""), signature=signature, geo=data.get("geo"), completion_key=key)
    except ValidationError as exc:
        return Response({"status": "invalid", "errors": {k: _(v) for k, v in exc.errors.items()}}, status_code=422)
    except ConflictError as exc:
        return Response({"status": "conflict", "message": _(exc.message)}, status_code=409)
    return Response({"status": saved.aggregate.status, "number": saved.aggregate.number})


@post("/field/orders/{order_id:str}/photos", opt=WORK, sync_to_thread=True, include_in_schema=False)
def photo(request: Request[Any, Any, Any], order_id: str,
          data: Any = Body(media_type=RequestEncodingType.MULTI_PART)) -> Response[dict[str, Any]]:
    container = container_of(request)
    load_for(container, require_principal(request), order_id, work=True)
    upload = data.get("file") if isinstance(data, dict) else None
    if not isinstance(upload, UploadFile):
        return Response({"errors": {"file": _("Choose a photo.")}}, status_code=422)
    try:
        stored = container.field_photos.put(upload.filename or "photo", upload.file.read(
            container.field_photos.max_bytes + 1))
        if not stored["content_type"].startswith("image/"):
            raise ValidationError("file", "a photo is a JPEG, PNG, GIF or WebP image")
        saved = container.service_orders.add_photo(meta_of(request), order_id, stored)
    except ValidationError as exc:
        return Response({"errors": {k: _(v) for k, v in exc.errors.items()}}, status_code=422)
    except ConflictError as exc:
        return Response({"errors": {"status": _(exc.message)}}, status_code=409)
    return Response({"photos": len(saved.aggregate.photos)}, status_code=201)


# The technician's day ----------------------------------------------------------------------------
@get("/field/agenda", opt=WORK, sync_to_thread=True, include_in_schema=False)
def technician_day(request: Request[Any, Any, Any], date: str = "", technician: str = "") -> Template:
    p = require_principal(request)
    container = container_of(request)
    day = _local_day(date, container)
    tech = technician if technician and p.can("field:write") else p.actor
    start, end = day_bounds(day)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        items = agenda(conn, p.tenant_id, tech, start, end)
        customers = _customers(conn, p.tenant_id, sorted({o["customer_id"] for o in items}))
        names = _people(conn, p.tenant_id)
    base = datetime.fromisoformat(day)
    return Template("field/agenda.html", context={
        "items": items, "customers": customers, "day": day, "tech": tech, "tech_name": names.get(tech, ""),
        "prev_day": (base - timedelta(days=1)).date().isoformat(),
        "next_day": (base + timedelta(days=1)).date().isoformat(),
        "checklists": {k: Field.checklist_for(k) for k in KINDS}, "fail_reasons": FAIL_REASONS, **_labels()})


# Dispatcher board --------------------------------------------------------------------------------
@get("/field/board", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def board(request: Request[Any, Any, Any], date: str = "") -> Template:
    p = require_principal(request)
    container = container_of(request)
    day = _local_day(date, container)
    start, end = day_bounds(day)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        techs = _technicians(conn, p.tenant_id)
        lanes = [{"tech": t, "items": agenda(conn, p.tenant_id, t["id"], start, end)} for t in techs]
        waiting = list_orders(conn, p.tenant_id, status="open", unscheduled=True, per_page=50)["items"]
        ids = sorted({o["customer_id"] for lane in lanes for o in lane["items"]} | {o["customer_id"] for o in waiting})
        customers = _customers(conn, p.tenant_id, ids)
    base = datetime.fromisoformat(day)
    hours = list(range(7, 20))
    return Template("field/board.html", context={
        "lanes": lanes, "waiting": waiting, "customers": customers, "day": day, "hours": hours, "techs": techs,
        "prev_day": (base - timedelta(days=1)).date().isoformat(),
        "next_day": (base + timedelta(days=1)).date().isoformat(), **_labels()})


# Notifications -----------------------------------------------------------------------------------
@get("/notifications", sync_to_thread=True, include_in_schema=False)
def notifications(request: Request[Any, Any, Any], page: str = "1") -> Template:
    p = require_principal(request)
    container = container_of(request)
    try:
        page_no = max(1, min(int(page), 100_000))
    except ValueError:
        raise ValidationError("page", _("page must be a number")) from None
    with tenant_reader(container.engine, p.tenant_id) as conn:
        result = inbox(conn, p.tenant_id, p.actor, page=page_no)
    result["items"] = [translated(i) for i in result["items"]]
    prefs = container.notifications.get_preferences(p.tenant_id, p.actor)
    from retaguarda.notifications.inbox import KINDS as NOTICE_KINDS

    return Template("notifications/inbox.html", context={
        "result": result, "page_url": lambda n: f"/notifications?page={n}", "prefs": prefs,
        "notice_kinds": NOTICE_KINDS})


@post("/notifications/{notice_id:str}/read", sync_to_thread=True, include_in_schema=False)
def read_notice(request: Request[Any, Any, Any], notice_id: str, data: dict[str, Any] = FORM) -> Redirect:
    container_of(request).notifications.mark_read(meta_of(request), notice_id)
    target = str(data.get("next") or "/notifications")
    return Redirect(target if target.startswith("/") and not target.startswith("//") else "/notifications")


@post("/notifications/preferences", sync_to_thread=True, include_in_schema=False)
def save_preferences(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Redirect:
    from retaguarda.notifications.inbox import CHANNELS
    from retaguarda.notifications.inbox import KINDS as NOTICE_KINDS

    muted = {c: [k for k in NOTICE_KINDS if not data.get(f"{c}:{k}")] for c in CHANNELS}
    container_of(request).notifications.set_preferences(meta_of(request), muted)
    return Redirect("/notifications?saved=1")


pages = [orders, new_order, create_order, order_page, schedule, complete, photo, transition, technician_day, board,
         notifications, read_notice, save_preferences]
