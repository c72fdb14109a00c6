"""Everyday billing screens: a new invoice (customer search, items, due date, optional issue) and a
new subscription (customer, plan, due day, start), with errors next to their fields.

Amounts are typed the Brazilian way (1.234,56) and parsed with `retaguarda.i18n.parse_money`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.billing.catalogue import list_plans
from projections.customers.customer_list import get_customer_row
from retaguarda.billing.application import local_date
from retaguarda.i18n import _, parse_money
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

WRITE = {"permission": "billing:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_ITEMS = 50
_ITEM_KEY = re.compile(r"^items-(\d+)-(description|quantity|unit_price)$")


def _customer(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any] | None:
    if not customer_id:
        return None
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return get_customer_row(conn, p.tenant_id, customer_id)


def _money(value: Any, field: str, errors: dict[str, str], *, required: bool = True) -> str:
    text = str(value or "").strip()
    if not text:
        if required:
            errors[field] = _("required")
        return "0"
    try:
        return str(parse_money(text))
    except ValueError:
        errors[field] = _("not an amount (e.g. 1.234,56)")
        return "0"


def form_items(data: dict[str, Any]) -> list[dict[str, str]]:
    """`items-<n>-description|quantity|unit_price` fields as rows, in index order, blank rows dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in data.items():
        m = _ITEM_KEY.match(key)
        if m and int(m.group(1)) < MAX_ITEMS:
            last = value[-1] if isinstance(value, list) else value
            rows.setdefault(int(m.group(1)), {})[m.group(2)] = str(last)
    ordered = [rows[i] for i in sorted(rows)]
    return [r for r in ordered if any(str(v).strip() for v in r.values())]


def _invoice_context(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str]
                     ) -> dict[str, Any]:
    items = values.get("items") or [{"description": "", "quantity": "1", "unit_price": ""}]
    return {"values": values, "items": items, "errors": errors, "field": "customer_id",
            "picked": _customer(request, str(values.get("customer_id") or "")), "fmt": format_document}


@get("/billing/invoices/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_invoice_form(request: Request[Any, Any, Any], customer: str = "") -> Template:
    c = container_of(request)
    due = local_date(c.clock.now()) + timedelta(days=10)
    return Template("billing/invoice_form.html", context=_invoice_context(
        request, {"customer_id": customer, "due_date": due.isoformat(), "discount": "", "issue": "on"}, {}))


@post("/billing/invoices/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create_invoice(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    c = container_of(request)
    errors: dict[str, str] = {}
    rows = form_items(data)
    items = []
    for i, row in enumerate(rows):
        if not row.get("description", "").strip():
            errors[f"items[{i}].description"] = _("describe the item")
        items.append({"description": row.get("description", "").strip(),
                      "quantity": _money(row.get("quantity") or "1", f"items[{i}].quantity", errors),
                      "unit_price": _money(row.get("unit_price"), f"items[{i}].unit_price", errors)})
    if not items:
        errors["items"] = _("add at least one item")
    discount = _money(data.get("discount"), "discount", errors, required=False)
    customer_id = str(data.get("customer_id") or "").strip()
    if not customer_id:
        errors["customer_id"] = _("search and choose the customer")
    values = {**data, "items": rows}
    if errors:
        return Template("billing/invoice_form.html", status_code=422,
                        context=_invoice_context(request, values, errors))
    try:
        from retaguarda.billing.views import parse_date

        saved = c.billing.create_invoice(meta_of(request), customer_id=customer_id,
                                         due_date=parse_date(data.get("due_date", ""), "due_date"),
                                         items=items, discount=discount)
        invoice_id = str(saved.aggregate.id)
        if data.get("issue") == "on":
            saved = c.billing.issue_invoice(meta_of(request), invoice_id)
    except (ValidationError, ConflictError, NotFoundError) as exc:
        if isinstance(exc, ValidationError):
            found = exc.errors
        elif isinstance(exc, NotFoundError):
            found = {"customer_id": _("no such customer")}
        else:
            found = {exc.field or "form": exc.message}
        return Template("billing/invoice_form.html", status_code=422,
                        context=_invoice_context(request, values, found))
    return Redirect(f"/billing/invoices/{invoice_id}")


def _subscription_context(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str]
                          ) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        plans = [pl for pl in list_plans(conn, p.tenant_id, active_only=True) if pl["kind"] == "plan"]
    return {"values": values, "errors": errors, "plans": plans, "field": "customer_id",
            "picked": _customer(request, str(values.get("customer_id") or "")), "fmt": format_document}


@get("/billing/subscriptions/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_subscription_form(request: Request[Any, Any, Any], customer: str = "") -> Template:
    today = local_date(container_of(request).clock.now())
    return Template("billing/subscription_form.html", context=_subscription_context(
        request, {"customer_id": customer, "due_day": str(min(today.day, 28)),
                  "start_date": today.isoformat()}, {}))


@post("/billing/subscriptions/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create_subscription(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    from retaguarda.billing.views import parse_date

    c = container_of(request)
    errors: dict[str, str] = {}
    customer_id = str(data.get("customer_id") or "").strip()
    if not customer_id:
        errors["customer_id"] = _("search and choose the customer")
    if not data.get("plan_id"):
        errors["plan_id"] = _("choose a plan")
    try:
        due_day = int(str(data.get("due_day", "")).strip())
        if not 1 <= due_day <= 28:
            raise ValueError
    except ValueError:
        errors["due_day"] = _("a day from 1 to 28")
        due_day = 0
    try:
        start = parse_date(data.get("start_date", ""), "start_date")
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        return Template("billing/subscription_form.html", status_code=422,
                        context=_subscription_context(request, data, errors))
    try:
        c.billing.subscribe(meta_of(request), customer_id=customer_id, plan_id=str(data["plan_id"]),
                                    due_day=due_day, start_date=start)
    except (ValidationError, ConflictError, NotFoundError) as exc:
        if isinstance(exc, ValidationError):
            found = exc.errors
        elif isinstance(exc, NotFoundError):
            found = {"customer_id" if exc.what == "Customer" else "plan_id": _("not found")}
        else:
            found = {exc.field or "form": exc.message}
        return Template("billing/subscription_form.html", status_code=422,
                        context=_subscription_context(request, data, found))
    return Redirect(f"/customers/{customer_id}?saved=1")


pages = [new_invoice_form, create_invoice, new_subscription_form, create_subscription]
