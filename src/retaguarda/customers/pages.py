"""HTML pages of the customers context: list, detail with History tab, create/edit forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.customers.customer_list import get_customer_row, list_customers
from retaguarda.customers.domain import ADDRESS_FIELDS, STATUSES
from retaguarda.i18n import N_
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.web.context import container_of, meta_of, read_one, require_principal
from retaguarda.web.customer360 import current_plans, customer_360
from retaguarda.web.html import Template

READ = {"permission": "customers:read"}
WRITE = {"permission": "customers:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _row(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    return read_one(request, get_customer_row, "Customer", customer_id)


def _form_fields(form: dict[str, Any]) -> dict[str, Any]:
    phones = [x.strip() for x in str(form.get("phones", "")).replace(";", ",").split(",") if x.strip()]
    address = {k: str(form.get(f"address.{k}", "")).strip() for k in ADDRESS_FIELDS}
    return {
        "name": form.get("name", ""), "kind": form.get("kind", ""), "document": form.get("document", ""),
        "email": form.get("email", ""), "phones": phones,
        "address": address if any(address.values()) else None,
        "notes": form.get("notes", ""),  # the plan is the billing subscription's, not a field here
    }


@get("/customers", opt=READ, sync_to_thread=True, include_in_schema=False)
def customer_list(request: Request[Any, Any, Any], search: str = "", status: str = "",
                  page: int = 1) -> Template:
    p = require_principal(request)
    status = status if status in STATUSES else ""
    page = max(1, page)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_customers(conn, p.tenant_id, search=search, status=status, page=page)
        plans = current_plans(conn, p.tenant_id, [c["id"] for c in result["items"]]) \
            if p.can("billing:read") else None
    def page_url(n: int) -> str:
        return "/customers?" + urlencode({"search": search, "status": status, "page": n})
    template = "customers/_rows.html" if request.headers.get("hx-request") and \
        request.headers.get("hx-target") == "customer-rows" else "customers/list.html"
    return Template(template, context={
        "result": result, "search": search, "status": status, "statuses": STATUSES,
        "page_url": page_url, "fmt": format_document, "plans": plans,
    })


@get("/customers/picker", opt=READ, sync_to_thread=True, include_in_schema=False)
def picker(request: Request[Any, Any, Any], q: str = "", field: str = "customer_id",
           selected: str = "") -> Template:
    """An HTMX fragment: customers matching `q` as radio buttons named `field` (a customer search
    for any form: invoices, subscriptions, tickets, notes). Blocked customers are included."""
    p = require_principal(request)
    field = field if field.replace("_", "").isalnum() else "customer_id"
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        found = list_customers(conn, p.tenant_id, search=q.strip(), page=1, per_page=8)["items"] \
            if len(q.strip()) >= 2 else []
        chosen = get_customer_row(conn, p.tenant_id, selected) if selected else None
    if chosen and all(c["id"] != chosen["id"] for c in found):
        found = [chosen, *found]
    return Template("customers/_picker.html", context={
        "found": found, "q": q, "field": field, "selected": selected, "fmt": format_document})


@get("/customers/new", opt=WRITE, sync_to_thread=False, include_in_schema=False)
def new_form() -> Template:
    return Template("customers/form.html", context={"values": {"kind": "company"}, "errors": {},
                                                     "customer": None})


@post("/customers/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    try:
        saved = container_of(request).customers.register_customer(meta_of(request), **_form_fields(data))
    except (ValidationError, ConflictError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {exc.field or "form": exc.message}
        return Template("customers/form.html", status_code=422,
                        context={"values": data, "errors": errors, "customer": None})
    return Redirect(f"/customers/{saved.aggregate.id}?created=1")


@get("/customers/{customer_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def detail(request: Request[Any, Any, Any], customer_id: str, tab: str = "overview",
           created: int = 0, saved: int = 0) -> Template:
    row = _row(request, customer_id)
    flash = N_("Customer created.") if created else (N_("Changes saved.") if saved else None)
    return Template("customers/detail.html", context={
        "c": row, "tab": tab if tab in ("overview", "history") else "overview",
        "flash": flash, "fmt": format_document, "v": _overview(request, row),
    })


def _overview(request: Request[Any, Any, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The Customer 360 sections the person may see (billing, support, fiscal, CNPJ)."""
    p = require_principal(request)
    c = container_of(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        return customer_360(conn, p, row, c.clock.now())


@get("/customers/{customer_id:str}/edit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def edit_form(request: Request[Any, Any, Any], customer_id: str) -> Template:
    row = _row(request, customer_id)
    values = {**row, "phones": ", ".join(row["phones"])}
    for k in ADDRESS_FIELDS:
        values[f"address.{k}"] = (row["address"] or {}).get(k, "")
    return Template("customers/form.html", context={"values": values, "errors": {}, "customer": row})


@post("/customers/{customer_id:str}/edit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def update(request: Request[Any, Any, Any], customer_id: str, data: dict[str, Any] = FORM) -> Any:
    row = _row(request, customer_id)
    try:
        container_of(request).customers.update_customer(meta_of(request), customer_id,
                                                                 **_form_fields(data))
    except (ValidationError, ConflictError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {exc.field or "form": exc.message}
        return Template("customers/form.html", status_code=422,
                        context={"values": data, "errors": errors, "customer": row})
    return Redirect(f"/customers/{customer_id}?saved=1")


@post("/customers/{customer_id:str}/status", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def change_status(request: Request[Any, Any, Any], customer_id: str,
                  data: dict[str, Any] = FORM) -> Any:
    action = data.get("action", "")
    if action not in ("block", "unblock", "deactivate", "reactivate"):
        raise ValidationError("action", "unknown action")
    service = container_of(request).customers
    try:
        getattr(service, f"{action}_customer")(meta_of(request), customer_id,
                                                       data.get("reason", ""))
    except (ValidationError, ConflictError) as exc:
        row = _row(request, customer_id)
        message = exc.message if isinstance(exc, (ValidationError, ConflictError)) else str(exc)
        return Template("customers/detail.html", status_code=422, context={
            "c": row, "tab": "overview", "flash": message, "flash_kind": "error", "fmt": format_document,
            "v": _overview(request, row)})
    return Redirect(f"/customers/{customer_id}?saved=1")


pages = [customer_list, picker, new_form, create, detail, edit_form, update, change_status]
