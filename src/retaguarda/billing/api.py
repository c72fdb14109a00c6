"""JSON API of the billing context (`/api/v1/billing/...`). Amounts are decimal strings."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, patch, post
from litestar.params import Parameter

from projections.billing.catalogue import list_plans, list_runs, list_subscriptions
from projections.billing.invoice_list import (
    list_invoices,
    payments_by_method,
    receivables,
    revenue_by_month,
)
from retaguarda.billing.application import check_public_token, local_date
from retaguarda.billing.domain import INVOICE_STATUSES
from retaguarda.billing.schemas import (
    CancelSubscriptionIn,
    InvoiceIn,
    PaymentIn,
    PlanChangeIn,
    PlanIn,
    PlanPatch,
    ReasonIn,
    RefundIn,
    RunIn,
    SubscriptionIn,
    items_of,
)
from retaguarda.billing.views import invoice_view, parse_date, parse_instant
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}
ADMIN = {"permission": "billing:admin"}
PUBLIC = {"public": True}


def _invoice(request: Request[Any, Any, Any], invoice_id: str) -> dict[str, Any]:
    c = container_of(request)
    inv = c.billing.get_invoice(require_principal(request).tenant_id, invoice_id)
    return jsonable(invoice_view(c, inv))


# Plans and subscriptions -------------------------------------------------------------------

@post("/billing/plans", opt=WRITE, sync_to_thread=True, summary="Create a plan, product or service")
def create_plan(request: Request[Any, Any, Any], data: PlanIn) -> Response[dict[str, Any]]:
    c = container_of(request)
    fields = {"name": data.name, "price": data.price, "kind": data.kind, "active": data.active,
              "fiscal": data.fiscal, "portal": data.portal}
    if data.cycle:
        fields["cycle"] = data.cycle
    saved = c.billing.create_plan(meta_of(request), **fields)
    plan = saved.aggregate
    return Response(jsonable({"id": str(plan.id), "name": plan.name, "price": plan.price, "cycle": plan.cycle,
                              "kind": plan.kind, "active": plan.active, "fiscal": plan.fiscal,
                              "portal": plan.portal}), status_code=201)


@patch("/billing/plans/{plan_id:str}", opt=WRITE, sync_to_thread=True, summary="Change a plan")
def update_plan(request: Request[Any, Any, Any], plan_id: str, data: PlanPatch) -> dict[str, Any]:
    saved = container_of(request).billing.update_plan(meta_of(request), plan_id, **data.changes())
    plan = saved.aggregate
    return jsonable({"id": str(plan.id), "name": plan.name, "price": plan.price, "cycle": plan.cycle,
                     "kind": plan.kind, "active": plan.active, "fiscal": plan.fiscal,
                     "portal": getattr(plan, "portal", False)})


@get("/billing/plans", opt=READ, sync_to_thread=True, summary="Plans, products and services")
def plans(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return {"items": jsonable(list_plans(conn, p.tenant_id))}


@post("/billing/subscriptions", opt=WRITE, sync_to_thread=True, summary="Subscribe a customer to a plan")
def create_subscription(request: Request[Any, Any, Any], data: SubscriptionIn) -> Response[dict[str, Any]]:
    c = container_of(request)
    saved = c.billing.subscribe(meta_of(request), customer_id=data.customer_id, plan_id=data.plan_id,
                                due_day=data.due_day, start_date=parse_date(data.start_date, "start_date"))
    s = saved.aggregate
    return Response(jsonable({"id": str(s.id), "customer_id": s.customer_id, "plan_id": s.plan_id,
                              "due_day": s.due_day, "start_date": s.start_date, "status": s.status}),
                    status_code=201)


@get("/billing/subscriptions", opt=READ, sync_to_thread=True, summary="Subscriptions (by customer)")
def subscriptions(request: Request[Any, Any, Any], customer: str = "",
                  page: int = Parameter(default=1, ge=1)) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_subscriptions(conn, p.tenant_id, customer, page))


def _subscription(request: Request[Any, Any, Any], subscription_id: str) -> dict[str, Any]:
    from retaguarda.billing.domain import Subscription

    s = container_of(request).billing.load(Subscription, subscription_id, require_principal(request).tenant_id)
    return {"id": str(s.id), "customer_id": s.customer_id, "plan_id": s.plan_id, "due_day": s.due_day,
            "start_date": s.start_date, "status": s.status, "status_reason": s.status_reason,
            "pending_plan_id": s.pending_plan_id, "pending_from": s.pending_from,
            "end_date": getattr(s, "end_date", None)}


@post("/billing/subscriptions/{subscription_id:str}/plan", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Change plan: at the next period, or now pro-rated by days")
def change_plan(request: Request[Any, Any, Any], subscription_id: str, data: PlanChangeIn) -> dict[str, Any]:
    c = container_of(request)
    meta = meta_of(request)
    if data.when == "now":
        _saved, adjustment = c.billing.change_plan_now(meta, subscription_id, data.plan_id)
    elif data.when == "next_period":
        from retaguarda.billing.domain import Subscription

        sub = c.billing.load(Subscription, subscription_id, meta.tenant_id)
        effective = c.billing.next_period_start(meta.tenant_id, sub, local_date(meta.at))
        c.billing.change_subscription_plan(meta, subscription_id, data.plan_id, effective)
        adjustment = {"invoice": None, "credit": "0.00"}
    else:
        raise ValidationError("when", "when must be next_period or now")
    return jsonable({**_subscription(request, subscription_id), "adjustment": adjustment})


@post("/billing/subscriptions/{subscription_id:str}/cancel", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Cancel a subscription today (final invoice for unbilled days, credit for unused ones)")
def cancel_subscription(request: Request[Any, Any, Any], subscription_id: str,
                        data: CancelSubscriptionIn) -> dict[str, Any]:
    _saved, result = container_of(request).billing.cancel_subscription(
        meta_of(request), subscription_id, data.reason, final_invoice=data.final_invoice)
    return jsonable({**_subscription(request, subscription_id), "final": result})


@post("/billing/subscriptions/{subscription_id:str}/{action:str}", opt=WRITE, sync_to_thread=True,
      status_code=200, summary="Suspend or resume a subscription")
def subscription_status(request: Request[Any, Any, Any], subscription_id: str, action: str,
                        data: ReasonIn) -> dict[str, Any]:
    if action not in ("suspend", "resume"):
        raise NotFoundError("Route", action)
    container_of(request).billing.set_subscription_status(meta_of(request), subscription_id, action,
                                                                  data.reason)
    return jsonable(_subscription(request, subscription_id))


# Invoices ------------------------------------------------------------------------------------

@post("/billing/invoices", opt=WRITE, sync_to_thread=True, summary="Create a draft invoice")
def create_invoice(request: Request[Any, Any, Any], data: InvoiceIn) -> Response[dict[str, Any]]:
    c = container_of(request)
    saved = c.billing.create_invoice(meta_of(request), customer_id=data.customer_id,
                                     due_date=parse_date(data.due_date, "due_date"), items=items_of(data),
                                     discount=data.discount)
    inv = saved.aggregate
    return Response(jsonable(invoice_view(c, inv)), status_code=201,
                    headers={"Location": f"/api/v1/billing/invoices/{inv.id}"})


@get("/billing/invoices", opt=READ, sync_to_thread=True, summary="List invoices")
def invoices(request: Request[Any, Any, Any], status: str = "", customer: str = "", due_from: str = "",
             due_to: str = "", page: int = Parameter(default=1, ge=1),
             per_page: int = Parameter(default=20, ge=1, le=200)) -> dict[str, Any]:
    if status and status not in INVOICE_STATUSES:
        raise ValidationError("status", f"status must be one of {', '.join(INVOICE_STATUSES)}")
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_invoices(
            conn, p.tenant_id, status=status, customer=customer,
            due_from=parse_date(due_from, "due_from") if due_from else None,
            due_to=parse_date(due_to, "due_to") if due_to else None, page=page, per_page=per_page))


@get("/billing/invoices/{invoice_id:str}", opt=READ, sync_to_thread=True, summary="One invoice")
def read_invoice(request: Request[Any, Any, Any], invoice_id: str) -> dict[str, Any]:
    return _invoice(request, invoice_id)


@post("/billing/invoices/{invoice_id:str}/issue", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Issue a draft invoice (PIX and boleto attached, credit applied)")
def issue_invoice(request: Request[Any, Any, Any], invoice_id: str) -> dict[str, Any]:
    container_of(request).billing.issue_invoice(meta_of(request), invoice_id)
    return _invoice(request, invoice_id)


@post("/billing/invoices/{invoice_id:str}/payments", opt=WRITE, sync_to_thread=True,
      summary="Register a payment")
def register_payment(request: Request[Any, Any, Any], invoice_id: str, data: PaymentIn) -> Response[dict[str, Any]]:
    c = container_of(request)
    c.billing.register_payment(meta_of(request), invoice_id, amount=data.amount, method=data.method,
                                       paid_at=parse_instant(data.paid_at, "paid_at"), reference=data.reference)
    view = _invoice(request, invoice_id)
    view["payment"] = view["payments"][-1]
    return Response(view, status_code=201)


@post("/billing/invoices/{invoice_id:str}/refunds", opt=WRITE, sync_to_thread=True, summary="Refund a payment")
def refund(request: Request[Any, Any, Any], invoice_id: str, data: RefundIn) -> Response[dict[str, Any]]:
    container_of(request).billing.refund_payment(meta_of(request), invoice_id, data.payment_id,
                                                         data.amount)
    return Response(_invoice(request, invoice_id), status_code=201)


@post("/billing/invoices/{invoice_id:str}/refunds/{refund_id:str}/retry", opt=WRITE, sync_to_thread=True,
      status_code=200, summary="Send a failed card refund to Stripe again")
def retry_refund(request: Request[Any, Any, Any], invoice_id: str, refund_id: str) -> dict[str, Any]:
    container_of(request).billing.retry_refund(meta_of(request), invoice_id, refund_id)
    return _invoice(request, invoice_id)


@post("/billing/invoices/{invoice_id:str}/cancel", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Cancel an invoice")
def cancel_invoice(request: Request[Any, Any, Any], invoice_id: str, data: ReasonIn | None = None) -> dict[str, Any]:
    reason = data.reason if data is not None else "cancelled"
    container_of(request).billing.cancel_invoice(meta_of(request), invoice_id, reason)
    return _invoice(request, invoice_id)


@get("/billing/invoices/{invoice_id:str}/pdf", opt=READ, sync_to_thread=True, summary="Invoice PDF")
def invoice_pdf(request: Request[Any, Any, Any], invoice_id: str) -> Response[bytes]:
    from retaguarda.billing.pdf import render_invoice_pdf
    from retaguarda.billing.views import pdf_view

    c = container_of(request)
    inv = c.billing.get_invoice(require_principal(request).tenant_id, invoice_id)
    return Response(render_invoice_pdf(pdf_view(c, inv)), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="invoice-{inv.number}.pdf"'})


# Runs, receivables, settings, accounts ----------------------------------------------------------

@post("/billing/runs", opt=ADMIN, sync_to_thread=True, status_code=200,
      summary="Run generation, overdue marking, reminders and blocking for a date")
def run(request: Request[Any, Any, Any], data: RunIn) -> dict[str, Any]:
    from retaguarda.billing.runs import run_for_tenant

    c = container_of(request)
    p = require_principal(request)
    run_date = parse_date(data.date, "date") if data.date else local_date(c.clock.now())
    results = run_for_tenant(c, p.tenant_id, run_date, actor=p.actor, trigger="api")
    c.wait_for(c.store.head())
    return jsonable({"date": run_date, **results})


@get("/billing/runs", opt=READ, sync_to_thread=True, summary="Last runs")
def runs(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return {"items": jsonable(list_runs(conn, p.tenant_id))}


@get("/billing/receivables", opt=READ, sync_to_thread=True, summary="Receivables, aging, revenue, MRR")
def receivables_(request: Request[Any, Any, Any]) -> dict[str, Any]:
    c = container_of(request)
    p = require_principal(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        data = receivables(conn, p.tenant_id, local_date(c.clock.now()))
        data["revenue"] = revenue_by_month(conn, p.tenant_id)
        data["payments_by_method"] = payments_by_method(conn, p.tenant_id)
    return jsonable(data)


@get("/billing/settings", opt=ADMIN, sync_to_thread=True, summary="Billing settings (secrets hidden)")
def get_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return jsonable(container_of(request).billing.settings_for(require_principal(request).tenant_id).public_values())


@patch("/billing/settings", opt=ADMIN, sync_to_thread=True, summary="Change billing settings")
def change_settings(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    c = container_of(request)
    c.billing.configure(meta_of(request), **data)
    return jsonable(c.billing.settings_for(require_principal(request).tenant_id).public_values())


@post("/billing/customers/{customer_id:str}/trust-unlock", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Unblock an overdue customer for 48 h (once a month)")
def trust_unlock(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    saved = container_of(request).billing.trust_unlock(meta_of(request), customer_id)
    a = saved.aggregate
    return jsonable({"customer_id": customer_id, "blocked": a.blocked, "trust_until": a.trust_until})


@post("/billing/customers/{customer_id:str}/access-network/retry", opt=ADMIN, sync_to_thread=True,
      status_code=200, summary="Retry a failed access-network delivery")
def retry_network(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    saved = container_of(request).billing.retry_network(meta_of(request), customer_id)
    return jsonable({"customer_id": customer_id, "network": saved.aggregate.network})


@get("/billing/customers/{customer_id:str}/account", opt=READ, sync_to_thread=True,
     summary="Credit, billing block and access-network state of a customer")
def account(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    a = container_of(request).billing.get_account(require_principal(request).tenant_id, customer_id)
    if a is None:
        return {"customer_id": customer_id, "credit": "0.00", "blocked": False, "block_reason": "",
                "trust_until": None, "network": {"state": "none"}}
    return jsonable({"customer_id": customer_id, "credit": a.credit, "blocked": a.blocked,
                     "block_reason": a.block_reason, "block_invoice_id": a.block_invoice_id or None,
                     "trust_until": a.trust_until, "network": a.network})


# Webhooks and the public card checkout ----------------------------------------------------------

@post("/billing/webhooks/{provider:str}", opt=PUBLIC, status_code=200, summary="Payment gateway webhooks")
async def webhook(request: Request[Any, Any, Any], provider: str) -> Response[dict[str, Any]]:
    from retaguarda.billing.webhooks import handle_webhook

    body = await request.body()
    c = container_of(request)
    status, result = await anyio.to_thread.run_sync(
        lambda: handle_webhook(c, provider, body, dict(request.headers), dict(request.query_params)))
    return Response(result, status_code=status,
                    media_type="application/problem+json" if status >= 400 else "application/json")


@post("/billing/pay/{invoice_id:str}/{token:str}/card", opt=PUBLIC, sync_to_thread=True, status_code=303,
      summary="Start a card payment (Stripe Checkout) from the public payment page")
def card_checkout(request: Request[Any, Any, Any], invoice_id: str, token: str) -> Response[Any]:
    from litestar.response import Redirect

    from retaguarda.billing.webhooks import start_card_checkout

    c = container_of(request)
    if not check_public_token(c.settings.secret_key, invoice_id, token):
        raise NotFoundError("Invoice", invoice_id)
    url = start_card_checkout(c, invoice_id, token)
    if "application/json" in request.headers.get("accept", ""):
        return Response({"url": url}, status_code=200)
    return Redirect(url, status_code=303)


@post("/billing/pay/{invoice_id:str}/{token:str}/mercadopago", opt=PUBLIC, sync_to_thread=True, status_code=200,
      summary="Start a Mercado Pago PIX payment from the public payment page")
def mercadopago_pix(request: Request[Any, Any, Any], invoice_id: str, token: str) -> dict[str, Any]:
    from retaguarda.billing.webhooks import start_mercadopago_pix

    c = container_of(request)
    if not check_public_token(c.settings.secret_key, invoice_id, token):
        raise NotFoundError("Invoice", invoice_id)
    return start_mercadopago_pix(c, invoice_id)


routes = [
    create_plan, update_plan, plans, create_subscription, subscriptions, create_invoice, invoices, read_invoice,
    issue_invoice, register_payment, refund, cancel_invoice, invoice_pdf, run, runs, receivables_, get_settings,
    change_settings, trust_unlock, retry_network, account, webhook, card_checkout, mercadopago_pix,
    retry_refund, change_plan, cancel_subscription, subscription_status,
]

