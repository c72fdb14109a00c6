"""Gateway webhooks and the card checkout of the public payment page.

A webhook changes something only when its signature verifies with the tenant's secret, its
timestamp is fresh (replays outside the tolerance are refused), and it was not accepted before
(GatewayEvent keyed by the provider's event id; the payment itself is claimed by its gateway
reference, so two different deliveries of one payment still count it once). Mercado Pago's
notification is only a hint: the payment is fetched (GET /v1/payments/{id}) before it is trusted.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.billing.domain import Invoice
from retaguarda.shared.errors import ConflictError, NotFoundError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.billing.webhooks")

PROVIDERS = ("stripe", "mercadopago")
PAID_STRIPE = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def _problem(status: int, title: str, detail: str) -> tuple[int, dict[str, Any]]:
    return status, {"type": "about:blank", "title": title, "status": status, "detail": detail}


def _meta(tenant_id: str, provider: str, at: Any) -> Meta:
    return Meta(tenant_id=tenant_id, actor=f"system:webhook:{provider}", correlation_id=uuid.uuid4().hex, at=at)


def handle_webhook(container: Container, provider: str, body: bytes, headers: dict[str, str],
                   query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if provider not in PROVIDERS:
        return _problem(404, "Not Found", f"unknown provider {provider!r}")
    try:
        if provider == "stripe":
            return _stripe(container, body, headers)
        return _mercadopago(container, body, headers, query)
    except _Refused as exc:
        log.warning("webhook_refused", provider=provider, reason=str(exc))
        return _problem(400, "Bad Request", str(exc))


class _Refused(Exception):
    pass


def _invoice(container: Container, invoice_id: str) -> Invoice:
    try:
        return container.billing.get_invoice(None, invoice_id)
    except NotFoundError:
        raise _Refused("unknown invoice") from None


def _stripe(container: Container, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    from retaguarda.billing.gateways.base import WebhookSignatureError
    from retaguarda.billing.gateways.stripe import verify_stripe_signature

    try:
        unverified = json.loads(body)
        obj = unverified["data"]["object"]
        invoice_id = (obj.get("metadata") or {}).get("invoice_id") or obj.get("client_reference_id")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _Refused("body is not a Stripe event about an invoice") from None
    if not invoice_id:
        raise _Refused("event names no invoice")
    inv = _invoice(container, str(invoice_id))
    settings = container.billing.settings_for(inv.tenant_id)
    now = container.clock.now()
    try:
        event = verify_stripe_signature(body, headers.get("stripe-signature", ""),
                                        settings.values.get("stripe_webhook_secret", ""), now)
    except WebhookSignatureError as exc:
        raise _Refused(f"signature: {exc}") from None
    obj = event["data"]["object"]
    meta = _meta(inv.tenant_id, "stripe", now)
    raw = body.decode("utf-8", "replace")
    if event["type"] in PAID_STRIPE and obj.get("payment_status") == "paid":
        amount = Decimal(int(obj["amount_total"])) / 100
        reference = obj.get("payment_intent") or obj.get("id")
        outcome = container.billing.accept_gateway_payment(
            meta, provider="stripe", event_id=event["id"], raw_body=raw, invoice_id=str(inv.id),
            amount=amount, method="card", paid_at=now, reference=str(reference))
    else:
        outcome = container.billing.record_gateway_event(meta, provider="stripe", event_id=event["id"],
                                                         raw_body=raw, invoice_id=str(inv.id),
                                                         outcome=str(event["type"])[:40])
    container.wait_for(container.store.head())
    return 200, {"received": True, "outcome": outcome}


def _mercadopago(container: Container, body: bytes, headers: dict[str, str],
                 query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    from retaguarda.billing.gateways.base import GatewayError, WebhookSignatureError
    from retaguarda.billing.gateways.mercadopago import verify_mercadopago_signature

    tenant_id = query.get("tenant", "")
    data_id = query.get("data.id", "")
    if not tenant_id or not data_id:
        raise _Refused("notification URL must carry tenant and data.id")
    settings = container.billing.settings_for(tenant_id)
    now = container.clock.now()
    try:
        verify_mercadopago_signature(x_signature=headers.get("x-signature", ""),
                                     x_request_id=headers.get("x-request-id", ""), data_id=data_id,
                                     secret=settings.values.get("mercadopago_webhook_secret", ""), now=now)
    except WebhookSignatureError as exc:
        raise _Refused(f"signature: {exc}") from None
    client = container.mercadopago_factory(settings)
    if client is None:
        raise _Refused("Mercado Pago is not configured for this tenant")
    try:
        payment = client.get_payment(data_id)
    except GatewayError as exc:
        # Answering 5xx makes Mercado Pago deliver again later.
        return _problem(503, "Service Unavailable", f"could not fetch the payment: {exc}")
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    finally:
        client.close()
    inv = _invoice(container, str(payment.get("external_reference") or ""))
    if inv.tenant_id != tenant_id:
        raise _Refused("unknown invoice")
    meta = _meta(tenant_id, "mercadopago", now)
    raw = body.decode("utf-8", "replace")
    event_id = headers.get("x-request-id", "")
    if payment.get("paid") and payment.get("amount"):
        method = "pix" if payment.get("payment_method_id") == "pix" else "boleto"
        outcome = container.billing.accept_gateway_payment(
            meta, provider="mercadopago", event_id=event_id, raw_body=raw, invoice_id=str(inv.id),
            amount=payment["amount"], method=method, paid_at=now, reference=str(payment["id"]))
    else:
        outcome = container.billing.record_gateway_event(
            meta, provider="mercadopago", event_id=event_id, raw_body=raw, invoice_id=str(inv.id),
            outcome=f"payment {payment.get('status')}"[:40])
    container.wait_for(container.store.head())
    return 200, {"received": True, "outcome": outcome}


def start_card_checkout(container: Container, invoice_id: str, token: str) -> str:
    """Creates (or reuses) a Stripe Checkout Session for the amount due today; returns its URL."""
    from retaguarda.billing.application import local_date

    inv = _checkout_invoice(container, invoice_id)
    settings = container.billing.settings_for(inv.tenant_id)
    client = container.stripe_factory(settings)
    if client is None:
        raise ConflictError("card payments are not configured")
    now = container.clock.now()
    amount = inv.due_on(local_date(now), settings.terms)
    cents = int(amount * 100)
    base = container.settings.base_url
    page = f"{base}/pay/{inv.id}/{token}"
    try:
        customer = container.customers.get_customer(inv.tenant_id, inv.customer_id)
        session = client.create_checkout_session(
            invoice_id=str(inv.id), amount_cents=cents, description=f"Invoice {inv.number}",
            success_url=page + "?paid=1", cancel_url=page, customer_email=customer.email,
            idempotency_key=f"checkout:{inv.id}:{inv.version}:{cents}")
    finally:
        client.close()
    meta = _meta(inv.tenant_id, "stripe", now)
    container.billing.start_checkout(meta, str(inv.id), "stripe", str(session["id"]), str(session["url"]))
    return str(session["url"])


def _checkout_invoice(container: Container, invoice_id: str) -> Invoice:
    try:
        inv = container.billing.get_invoice(None, invoice_id)
    except NotFoundError:
        raise NotFoundError("Invoice", invoice_id) from None
    if inv.status not in ("issued", "partially_paid", "overdue"):
        raise ConflictError(f"the invoice is {inv.status}; nothing to pay")
    return inv


def start_mercadopago_pix(container: Container, invoice_id: str) -> dict[str, Any]:
    """Creates a Mercado Pago PIX payment for the amount due today (idempotent per invoice version
    and amount); its notifications come back to our webhook with the tenant in the URL."""
    from retaguarda.billing.application import local_date

    inv = _checkout_invoice(container, invoice_id)
    settings = container.billing.settings_for(inv.tenant_id)
    client = container.mercadopago_factory(settings)
    if client is None:
        raise ConflictError("Mercado Pago is not configured")
    now = container.clock.now()
    amount = inv.due_on(local_date(now), settings.terms)
    base = container.settings.base_url
    try:
        customer = container.customers.get_customer(inv.tenant_id, inv.customer_id)
        payment = client.create_pix_payment(
            amount=amount, description=f"Invoice {inv.number}", payer_email=customer.email or "",
            external_reference=str(inv.id), idempotency_key=f"mp-pix:{inv.id}:{inv.version}:{amount}",
            notification_url=f"{base}/api/v1/billing/webhooks/mercadopago?tenant={inv.tenant_id}")
    finally:
        client.close()
    meta = _meta(inv.tenant_id, "mercadopago", now)
    container.billing.start_checkout(meta, str(inv.id), "mercadopago", str(payment["id"]),
                                     str(payment.get("ticket_url") or ""))
    return {"id": str(payment["id"]), "status": payment.get("status"), "amount": str(amount),
            "qr_code": payment.get("qr_code"), "ticket_url": payment.get("ticket_url")}
