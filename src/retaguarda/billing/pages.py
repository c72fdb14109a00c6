"""HTML pages of billing: invoices (list, detail with History tab and actions), plans,
subscriptions, runs, receivables with an aging chart, and the public payment page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.billing.catalogue import list_plans, list_runs, list_subscriptions
from projections.billing.invoice_list import AGING, list_invoices, receivables, revenue_by_month
from retaguarda.billing.application import check_public_token, local_date
from retaguarda.billing.domain import INVOICE_STATUSES, METHODS, OPEN_STATUSES
from retaguarda.billing.views import invoice_view, parse_date, parse_instant
from retaguarda.i18n import N_, _, error_text, format_money, gettext, parse_money
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template
from retaguarda.web.qr import qr_svg

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}
ADMIN = {"permission": "billing:admin"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@get("/billing/invoices", opt=READ, sync_to_thread=True, include_in_schema=False)
def invoice_list(request: Request[Any, Any, Any], status: str = "", customer: str = "", due_from: str = "",
                 due_to: str = "", page: int = 1, customer_q: str = "") -> Template:
    from retaguarda.customers import get_customer_row, list_customers

    p = require_principal(request)
    status = status if status in INVOICE_STATUSES else ""
    try:
        dfrom = parse_date(due_from, "due_from") if due_from else None
        dto = parse_date(due_to, "due_to") if due_to else None
    except ValidationError:
        dfrom = dto = None
    customer_error, matches = "", []
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        if customer_q.strip():  # a customer typed by name/document: filter when it names one customer
            matches = list_customers(conn, p.tenant_id, search=customer_q.strip(), per_page=10)["items"]
            exact = [m for m in matches if m["name"].casefold() == customer_q.strip().casefold()]
            if len(matches) == 1 or exact:
                customer, matches = (exact or matches)[0]["id"], []
            else:
                customer = "\x00none"
                customer_error = _("no customer matches") if not matches else ""
        customer_row = get_customer_row(conn, p.tenant_id, customer) if customer else None
        result = list_invoices(conn, p.tenant_id, status=status, customer=customer, due_from=dfrom, due_to=dto,
                               page=max(1, page))

    def page_url(n: int) -> str:
        return "/billing/invoices?" + urlencode({"status": status, "customer": customer,
                                                 "customer_q": customer_q,
                                                 "due_from": due_from, "due_to": due_to, "page": n})
    return Template("billing/invoices.html", context={
        "result": result, "status": status, "statuses": INVOICE_STATUSES, "customer": customer,
        "due_from": due_from, "due_to": due_to, "page_url": page_url, "customer_q": customer_q,
        "customer_row": customer_row, "customer_matches": matches, "customer_error": customer_error})


@get("/billing/invoices/{invoice_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def invoice_detail(request: Request[Any, Any, Any], invoice_id: str, tab: str = "overview",
                   error: str = "") -> Template:
    c = container_of(request)
    inv = c.billing.get_invoice(require_principal(request).tenant_id, invoice_id)
    customer = c.customers.get_customer(inv.tenant_id, inv.customer_id)
    view = invoice_view(c, inv)
    qr = qr_svg(view["pix"]["brcode"], label=_("PIX QR code")) \
        if view["pix"] and inv.status in OPEN_STATUSES else ""
    return Template("billing/invoice.html", context={
        "inv": view, "qr": qr, "customer": customer, "tab": "history" if tab == "history" else "overview",
        "methods": METHODS, "error": error, "today": local_date(c.clock.now())})


FIELD_LABELS = {"amount": N_("Amount"), "price": N_("Price"), "paid_at": N_("Paid at"), "method": N_("Method"),
                "reason": N_("Reason"), "name": N_("Name"), "date": N_("Date")}


def money_input(data: Any, field: str) -> str:
    """An amount typed as people do (1.234,56 · 1234,56 · 1234.56) as a decimal string; a value that
    cannot be read is a ValidationError in the request's language naming the field."""
    raw = str(data.get(field) or "").strip()
    if not raw:
        return raw  # the service says it is required
    try:
        return str(parse_money(raw))
    except ValueError:
        raise ValidationError(field, gettext("“%(value)s” is not an amount (e.g. 1.234,56).", value=raw)) from None


def error_message(exc: ValidationError | ConflictError) -> str:
    """The error for people: each field by its label, each message in the request's language."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{gettext(FIELD_LABELS[f]) if f in FIELD_LABELS else f}: {error_text(m)}"
                         for f, m in exc.errors.items())
    return error_text(exc.message)


@post("/billing/invoices/{invoice_id:str}/action", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def invoice_action(request: Request[Any, Any, Any], invoice_id: str, data: dict[str, Any] = FORM) -> Redirect:
    c = container_of(request)
    action = data.get("action", "")
    try:
        if action == "issue":
            c.billing.issue_invoice(meta_of(request), invoice_id)
        elif action == "pay":
            c.billing.register_payment(meta_of(request), invoice_id, amount=money_input(data, "amount"),
                                               method=data.get("method", ""),
                                               paid_at=parse_instant(data.get("paid_at", ""), "paid_at"),
                                               reference=data.get("reference", ""))
        elif action == "cancel":
            c.billing.cancel_invoice(meta_of(request), invoice_id, data.get("reason", ""))
        elif action == "refund":
            c.billing.refund_payment(meta_of(request), invoice_id, data.get("payment_id", ""),
                                     money_input(data, "amount"))
        elif action == "retry_refund":
            c.billing.retry_refund(meta_of(request), invoice_id, data.get("refund_id", ""))
        else:
            raise ValidationError("action", "unknown action")
    except (ValidationError, ConflictError) as exc:
        return Redirect(f"/billing/invoices/{invoice_id}?" + urlencode({"error": error_message(exc)}))
    return Redirect(f"/billing/invoices/{invoice_id}")


@get("/billing/plans", opt=READ, sync_to_thread=True, include_in_schema=False)
def plans_page(request: Request[Any, Any, Any], error: str = "") -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        items = list_plans(conn, p.tenant_id)
    return Template("billing/plans.html", context={"plans": items, "error": error})


@post("/billing/plans", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create_plan(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Redirect:
    try:
        container_of(request).billing.create_plan(
            meta_of(request), name=data.get("name", ""), price=money_input(data, "price"),
            cycle=data.get("cycle") or None, kind=data.get("kind") or "plan")
    except ValidationError as exc:
        return Redirect("/billing/plans?" + urlencode({"error": error_message(exc)}))
    return Redirect("/billing/plans")


@get("/billing/subscriptions", opt=READ, sync_to_thread=True, include_in_schema=False)
def subscriptions_page(request: Request[Any, Any, Any], customer: str = "", page: int = 1, error: str = "",
                       notice: str = "") -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_subscriptions(conn, p.tenant_id, customer, max(1, page))
        plans = list_plans(conn, p.tenant_id, active_only=True)
    return Template("billing/subscriptions.html", context={
        "result": result, "customer": customer, "error": error, "notice": notice,
        "plans": [pl for pl in plans if pl["kind"] == "plan"]})


@post("/billing/subscriptions/{subscription_id:str}/action", opt=WRITE, sync_to_thread=True,
      include_in_schema=False)
def subscription_action(request: Request[Any, Any, Any], subscription_id: str,
                        data: dict[str, Any] = FORM) -> Redirect:
    from retaguarda.billing.domain import Subscription

    c = container_of(request)
    meta = meta_of(request)
    action = data.get("action", "")
    back = "/billing/subscriptions" + (f"?customer={data['customer']}" if data.get("customer") else "")
    sep = "&" if "?" in back else "?"
    try:
        if action == "change_plan":
            if data.get("when") == "now":
                _saved, result = c.billing.change_plan_now(meta, subscription_id, data.get("plan_id", ""))
                notice = (gettext("Plan changed now; adjustment invoice %(number)s (%(total)s)",
                                  number=result["invoice"]["number"],
                                  total=format_money(result["invoice"]["total"])) if result["invoice"]
                          else gettext("Plan changed now; credit %(credit)s", credit=format_money(result["credit"])))
            else:
                sub = c.billing.load(Subscription, subscription_id, meta.tenant_id)
                effective = c.billing.next_period_start(meta.tenant_id, sub, local_date(meta.at))
                c.billing.change_subscription_plan(meta, subscription_id, data.get("plan_id", ""), effective)
                notice = gettext("Plan change scheduled from %(date)s", date=f"{effective:%d/%m/%Y}")
        elif action == "cancel":
            _saved, result = c.billing.cancel_subscription(meta, subscription_id, data.get("reason", ""),
                                                           final_invoice=data.get("final_invoice") == "on")
            notice = gettext("Subscription cancelled")
            if result["invoice"]:
                notice = gettext("Subscription cancelled; final invoice %(number)s (%(total)s)",
                                 number=result["invoice"]["number"], total=format_money(result["invoice"]["total"]))
            elif result["credit"] != "0.00":
                notice = gettext("Subscription cancelled; credit %(credit)s for unused days",
                                 credit=format_money(result["credit"]))
        elif action in ("suspend", "resume"):
            c.billing.set_subscription_status(meta, subscription_id, action, data.get("reason", ""))
            notice = gettext("Subscription suspended") if action == "suspend" else gettext("Subscription resumed")
        else:
            raise ValidationError("action", "unknown action")
    except (ValidationError, ConflictError) as exc:
        return Redirect(back + sep + urlencode({"error": error_message(exc)}))
    return Redirect(back + sep + urlencode({"notice": notice}))


@get("/billing/runs", opt=READ, sync_to_thread=True, include_in_schema=False)
def runs_page(request: Request[Any, Any, Any]) -> Template:
    c = container_of(request)
    p = require_principal(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        items = list_runs(conn, p.tenant_id)
    return Template("billing/runs.html", context={"runs": items, "today": local_date(c.clock.now())})


@post("/billing/runs", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def run_now(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Redirect:
    from retaguarda.billing.runs import run_for_tenant

    c = container_of(request)
    p = require_principal(request)
    run_date = parse_date(data.get("date") or local_date(c.clock.now()).isoformat(), "date")
    run_for_tenant(c, p.tenant_id, run_date, actor=p.actor, trigger="page")
    c.wait_for(c.store.head())
    return Redirect("/billing/runs")


@get("/billing/receivables", opt=READ, sync_to_thread=True, include_in_schema=False)
def receivables_page(request: Request[Any, Any, Any]) -> Template:
    c = container_of(request)
    p = require_principal(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        data = receivables(conn, p.tenant_id, local_date(c.clock.now()))
        revenue = revenue_by_month(conn, p.tenant_id)
    top = max([b["amount"] for b in data["aging"].values()] + [data["current"]["amount"], 1])
    return Template("billing/receivables.html", context={"r": data, "revenue": revenue, "top": float(top),
                                                         "buckets": [name for name, *_ in AGING]})


# Public payment page ------------------------------------------------------------------------------

@get("/pay/{invoice_id:str}/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def pay_page(request: Request[Any, Any, Any], invoice_id: str, token: str, paid: int = 0) -> Template:
    c = container_of(request)
    if not check_public_token(c.settings.secret_key, invoice_id, token):
        raise NotFoundError("Invoice", invoice_id)
    inv = c.billing.get_invoice(None, invoice_id)
    view = invoice_view(c, inv)
    settings = c.billing.settings_for(inv.tenant_id)
    qr = qr_svg(view["pix"]["brcode"], label=_("PIX QR code")) \
        if view["pix"] and inv.status in OPEN_STATUSES else ""
    return Template("billing/pay.html", context={
        "inv": view, "qr": qr, "token": token, "paid_flag": bool(paid),
        "merchant": settings.values.get("merchant_name") or "Retaguarda",
        "card": bool(settings.values.get("stripe_secret_key")), "today": local_date(c.clock.now())})


from retaguarda.billing.create_pages import pages as _create_pages  # noqa: E402 - the "new …" screens

pages = [*_create_pages, invoice_list, invoice_detail, invoice_action, plans_page, create_plan,
         subscriptions_page,
         subscription_action, runs_page,
         run_now, receivables_page, pay_page]



# Settings (admin): late terms, PIX, boleto agreement, reminders and blocking --------------

SETTINGS_FIELDS = (
    # (key, label msgid, kind) — kind: percent | int | days | bool | text
    ("fine_percent", N_("Fine after the due date (%)"), "percent"),
    ("interest_percent_month", N_("Interest per month (%), pro rata die"), "percent"),
    ("pix_key", N_("PIX key"), "text"),
    ("merchant_name", N_("Merchant name (PIX, up to 25 characters)"), "text"),
    ("merchant_city", N_("Merchant city (PIX, up to 15 characters)"), "text"),
    ("boleto_bank", N_("Bank code (3 digits)"), "text"),
    ("boleto_agency", N_("Agency"), "text"),
    ("boleto_account", N_("Account"), "text"),
    ("boleto_wallet", N_("Wallet (carteira)"), "text"),
    ("boleto_agreement", N_("Boleto agreement (convênio)"), "text"),
    ("reminder_days", N_("Reminder steps (days from the due date, e.g. -3, 0, 1, 5, 10)"), "days"),
    ("block_after_days", N_("Block access after (days overdue)"), "int"),
    ("lead_days", N_("Generate invoices ahead of the due date (days)"), "int"),
    ("nfse_on_paid", N_("Issue the NFS-e when an invoice is paid"), "bool"),
)


def _settings_form(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values from the form (as people type them) and Portuguese errors naming each field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, label_msgid, kind in SETTINGS_FIELDS:
        raw = str(data.get(key) or "").strip()
        label = gettext(label_msgid)
        if kind == "bool":
            values[key] = data.get(key) in ("on", "true", "1")
        elif kind == "percent":
            try:
                values[key] = str(parse_money(raw.replace("%", "")))
            except ValueError:
                errors[key] = gettext("%(field)s: “%(value)s” is not a number (e.g. 2,5).", field=label, value=raw)
        elif kind == "int":
            if raw.lstrip("-").isdigit():
                values[key] = int(raw)
            else:
                errors[key] = gettext("%(field)s: “%(value)s” is not a whole number.", field=label, value=raw)
        elif kind == "days":
            parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
            if all(p.lstrip("-+").isdigit() for p in parts):
                values[key] = [int(p) for p in parts]
            else:
                errors[key] = gettext("%(field)s: write whole numbers separated by commas.", field=label)
        else:
            values[key] = raw
    return values, errors


def _settings_page(request: Request[Any, Any, Any], status: int = 200, values: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None, flash: str | None = None) -> Template:
    current = container_of(request).billing.settings_for(require_principal(request).tenant_id).public_values()
    shown = {**current, **(values or {})}
    shown["reminder_days"] = ", ".join(str(d) for d in shown.get("reminder_days") or [])
    for key in ("fine_percent", "interest_percent_month"):
        try:
            shown[key] = format_money(shown[key], currency=False)
        except Exception:  # noqa: BLE001 - a value typed badly is shown back as typed
            pass
    return Template("billing/settings.html", status_code=status, context={
        "fields": SETTINGS_FIELDS, "values": shown, "errors": errors or {}, "flash": flash})


@get("/billing/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0) -> Template:
    return _settings_page(request, flash=gettext("Settings saved.") if saved else None)


@post("/billing/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_submit(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    values, errors = _settings_form(data)
    if not errors:
        try:
            container_of(request).billing.configure(meta_of(request), **values)
        except ValidationError as exc:
            errors = {key: error_text(message) for key, message in exc.errors.items()}
        else:
            return Redirect("/billing/settings?saved=1", status_code=303)
    typed = {key: data.get(key, "") for key, _label, _kind in SETTINGS_FIELDS}
    typed["nfse_on_paid"] = data.get("nfse_on_paid") in ("on", "true", "1")
    return _settings_page(request, 422, values=typed, errors=errors)


pages += [settings_page, settings_submit]
