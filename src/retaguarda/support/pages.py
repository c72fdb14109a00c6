"""HTML pages of the support context: queues, ticket page (conversation, actions, History),
technician performance and settings. Ticket actions post with HTMX and get the ticket panel back."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.support.technician_performance import current_month, months, performance
from projections.support.ticket_queue import list_tickets, queue_counts
from retaguarda.customers import active_customer_choices, get_customer_row
from retaguarda.i18n import N_
from retaguarda.identity import active_users, user_display_names
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.support.api import attachment_response, read_upload
from retaguarda.support.application import actor_of, ticket_view
from retaguarda.support.domain import CHANNELS, PRIORITIES, STATUSES, VISIBILITIES
from retaguarda.support.sla import WEEKDAYS
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

READ_ANY = {"permission": ("support:read", "support:own")}
WRITE_ANY = {"permission": ("support:write", "support:own")}
READ = {"permission": "support:read"}
WRITE = {"permission": "support:write"}
ADMIN = {"permission": "support:admin"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
QUEUES = ("mine", "unassigned", "all", "breached")
STAFF_ROLES = ("admin", "manager", "technician")


def _staff_users(conn: Any, tenant_id: str) -> list[dict[str, str]]:
    return [{"id": u["id"], "name": u["name"] or u["email"], "role": u["role"]}
            for u in active_users(conn, tenant_id, roles=STAFF_ROLES)]


def _user_names(conn: Any, tenant_id: str) -> dict[str, str]:
    return user_display_names(conn, tenant_id)


@get("/support/tickets", opt=READ_ANY, sync_to_thread=True, include_in_schema=False)
def ticket_list(request: Request[Any, Any, Any], queue: str = "all", status: str = "", priority: str = "",
                search: str = "", page: int = 1) -> Template:
    p = require_principal(request)
    actor = actor_of(p)
    container = container_of(request)
    queue = queue if queue in QUEUES else "all"
    status = status if status in ("active", *STATUSES) else ""
    priority = priority if priority in PRIORITIES else ""
    page = max(1, page)
    now = container.clock.now()
    filters: dict[str, Any] = {"status": status, "priority": priority, "search": search}
    if not actor.staff:
        filters["customer"] = actor.customer_id or "\x00none"
    elif queue == "mine":
        filters.update(assignee=p.actor, status=status or "active")
    elif queue == "unassigned":
        filters.update(assignee="none", status=status or "active")
    elif queue == "breached":
        filters["sla"] = "breached"
    with tenant_reader(container.engine, p.tenant_id) as conn:
        result = list_tickets(conn, p.tenant_id, now, page=page, sort="due" if queue != "all" else "newest",
                              **filters)
        counts = queue_counts(conn, p.tenant_id, p.actor, now) if actor.staff else {}
        names = _user_names(conn, p.tenant_id)

    def page_url(n: int) -> str:
        return "/support/tickets?" + urlencode({"queue": queue, "status": status, "priority": priority,
                                                "search": search, "page": n})

    template = "support/_rows.html" if request.headers.get("hx-request") and \
        request.headers.get("hx-target") == "ticket-rows" else "support/list.html"
    return Template(template, context={
        "result": result, "queue": queue, "queues": QUEUES, "counts": counts, "status": status,
        "priority": priority, "search": search, "statuses": STATUSES, "priorities": PRIORITIES,
        "page_url": page_url, "names": names, "staff": actor.staff, "now": now,
    })


def _new_context(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        # Blocked customers too: a customer blocked for an overdue invoice is exactly the one who calls.
        choices = active_customer_choices(conn, p.tenant_id, limit=500, statuses=("active", "blocked"))
    settings = container.support.get_settings(p.tenant_id)
    return {"values": values, "errors": errors, "customers": choices,
            "priorities": PRIORITIES, "channels": CHANNELS, "categories": settings.categories}


@get("/support/tickets/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_form(request: Request[Any, Any, Any], customer: str = "") -> Template:
    return Template("support/new.html", context=_new_context(
        request, {"priority": "medium", "channel": "phone", "customer_id": customer}, {}))


@post("/support/tickets/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    p = require_principal(request)
    try:
        saved = container_of(request).support.open_ticket(
            meta_of(request), actor_of(p), customer_id=data.get("customer_id", ""), title=data.get("title", ""),
            description=data.get("description", ""), priority=data.get("priority", ""),
            channel=data.get("channel", ""), category=data.get("category", ""))
    except (ValidationError, NotFoundError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"customer_id": "choose a customer"}
        return Template("support/new.html", status_code=422, context=_new_context(request, data, errors))
    return Redirect(f"/support/tickets/{saved.aggregate.id}?created=1")


def _panel_context(request: Request[Any, Any, Any], ticket_id: str, flash: str | None = None,
                   flash_kind: str = "ok") -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    actor = actor_of(p)
    ticket = container.support.get_ticket(p.tenant_id, actor, ticket_id)
    view = ticket_view(ticket, actor, url_prefix="/support/tickets")
    with tenant_reader(container.engine, p.tenant_id) as conn:
        customer = get_customer_row(conn, p.tenant_id, ticket.customer_id)
        staff = _staff_users(conn, p.tenant_id) if actor.staff else []
        names = _user_names(conn, p.tenant_id)
    return {"t": view, "customer": customer, "staff_users": staff, "names": names, "staff": actor.staff,
            "can_write": p.can("support:write") or (not actor.staff and p.can("support:own")),
            "me": p.actor, "flash": flash, "flash_kind": flash_kind, "visibilities": VISIBILITIES,
            "now": container.clock.now()}


@get("/support/tickets/{ticket_id:str}", opt=READ_ANY, sync_to_thread=True, include_in_schema=False)
def detail(request: Request[Any, Any, Any], ticket_id: str, tab: str = "conversation", created: int = 0) -> Template:
    context = _panel_context(request, ticket_id, N_("Ticket opened.") if created else None)
    context["tab"] = tab if tab in ("conversation", "history") and context["staff"] else "conversation"
    return Template("support/detail.html", context=context)


def _after_action(request: Request[Any, Any, Any], ticket_id: str, action: Any) -> Any:
    """Runs a ticket command; HTMX gets the re-rendered panel, a plain form a redirect."""
    htmx = bool(request.headers.get("hx-request"))
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        message = exc.message
        if htmx:
            return Template("support/_panel.html", status_code=200 if htmx else 422,
                            context=_panel_context(request, ticket_id, message, "error"))
        return Template("support/detail.html", status_code=422,
                        context={**_panel_context(request, ticket_id, message, "error"), "tab": "conversation"})
    if htmx:
        return Template("support/_panel.html", context=_panel_context(request, ticket_id, N_("Saved.")))
    return Redirect(f"/support/tickets/{ticket_id}")


@post("/support/tickets/{ticket_id:str}/comments", opt=WRITE_ANY, sync_to_thread=True, include_in_schema=False)
def comment(request: Request[Any, Any, Any], ticket_id: str, data: dict[str, Any] = FORM) -> Any:
    p = require_principal(request)
    return _after_action(request, ticket_id, lambda: container_of(request).support.add_comment(
        meta_of(request), actor_of(p), ticket_id, body=data.get("body", ""),
        visibility=data.get("visibility") or "public"))


@post("/support/tickets/{ticket_id:str}/attachments", opt=WRITE_ANY, sync_to_thread=True, include_in_schema=False)
def attach(request: Request[Any, Any, Any], ticket_id: str,
           data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    p = require_principal(request)
    container = container_of(request)

    def action() -> Any:
        container.support.get_ticket(p.tenant_id, actor_of(p), ticket_id)
        filename, content = read_upload(container, data.get("file"))
        attachment = container.support_attachments.put(filename, content)
        return container.support.add_comment(meta_of(request), actor_of(p), ticket_id, body=data.get("body", ""),
                                             visibility=data.get("visibility") or "public",
                                             attachments=[attachment])

    return _after_action(request, ticket_id, action)


@post("/support/tickets/{ticket_id:str}/status", opt=WRITE_ANY, sync_to_thread=True, include_in_schema=False)
def change_status(request: Request[Any, Any, Any], ticket_id: str, data: dict[str, Any] = FORM) -> Any:
    p = require_principal(request)
    return _after_action(request, ticket_id, lambda: container_of(request).support.change_status(
        meta_of(request), actor_of(p), ticket_id, data.get("status", ""), data.get("reason", "")))


@post("/support/tickets/{ticket_id:str}/assign", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def assign(request: Request[Any, Any, Any], ticket_id: str, data: dict[str, Any] = FORM) -> Any:
    p = require_principal(request)
    assignee = data.get("assignee_id") or None
    if assignee == "me":
        assignee = p.actor
    return _after_action(request, ticket_id, lambda: container_of(request).support.assign(
        meta_of(request), ticket_id, assignee))


@post("/support/tickets/{ticket_id:str}/priority", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def change_priority(request: Request[Any, Any, Any], ticket_id: str, data: dict[str, Any] = FORM) -> Any:
    return _after_action(request, ticket_id, lambda: container_of(request).support.update_ticket(
        meta_of(request), ticket_id, priority=data.get("priority", "")))


@get("/support/tickets/{ticket_id:str}/attachments/{attachment_id:str}", opt=READ_ANY, sync_to_thread=True,
     include_in_schema=False)
def download(request: Request[Any, Any, Any], ticket_id: str, attachment_id: str) -> Response[bytes]:
    return attachment_response(request, ticket_id, attachment_id)


@get("/support/performance", opt=READ, sync_to_thread=True, include_in_schema=False)
def performance_page(request: Request[Any, Any, Any], month: str = "") -> Template:
    p = require_principal(request)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        available = months(conn, p.tenant_id)
        chosen = month if month in available else (month if not month else "")
        rows = performance(conn, p.tenant_id, month=chosen)
        names = _user_names(conn, p.tenant_id)
    return Template("support/performance.html", context={
        "rows": rows, "months": available, "month": chosen, "names": names,
        "this_month": current_month(container.clock.now())})


def _settings_context(request: Request[Any, Any, Any], errors: dict[str, str] | None = None,
                      flash: str | None = None, flash_kind: str = "ok") -> dict[str, Any]:
    s = container_of(request).support.get_settings(require_principal(request).tenant_id)
    return {"s": s, "priorities": PRIORITIES, "weekdays": WEEKDAYS, "errors": errors or {}, "flash": flash,
            "flash_kind": flash_kind}


@get("/support/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0) -> Template:
    return Template("support/settings.html", context=_settings_context(request, flash=N_("Settings saved.") if saved else None))


def _int(value: Any) -> Any:
    try:
        return int(str(value).strip())
    except ValueError:
        return value


@post("/support/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def save_settings(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    service = container_of(request).support
    meta = meta_of(request)
    section = data.get("section", "")
    try:
        if section == "policies":
            policies = {pr: {"first_response_minutes": _int(data.get(f"{pr}.first_response_minutes")),
                             "resolution_minutes": _int(data.get(f"{pr}.resolution_minutes"))} for pr in PRIORITIES}
            service.set_policies(meta, policies)
        elif section == "calendar":
            hours = {}
            for day in WEEKDAYS:
                start, end = str(data.get(f"{day}.start", "")).strip(), str(data.get(f"{day}.end", "")).strip()
                hours[day] = [[start, end]] if start or end else []
            holidays = [h.strip() for h in str(data.get("holidays", "")).replace(",", "\n").splitlines() if h.strip()]
            service.set_calendar(meta, hours=hours, extra_holidays=holidays,
                                         reopen_window_days=_int(data.get("reopen_window_days")))
        elif section == "categories":
            names = [c.strip() for c in str(data.get("categories", "")).splitlines() if c.strip()]
            service.set_categories(meta, names)
        else:
            raise ValidationError("section", "unknown settings section")
    except ValidationError as exc:
        return Template("support/settings.html", status_code=422,
                        context=_settings_context(request, exc.errors, exc.message, "error"))
    return Redirect("/support/settings?saved=1")


pages = [ticket_list, new_form, create, detail, comment, attach, change_status, assign, change_priority,
         download, performance_page, settings_page, save_settings]
