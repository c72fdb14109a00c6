"""Plain views of billing aggregates for the API, pages, PDF and public payment page."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import retaguarda.billing.money as m
from retaguarda.billing.application import local_date, public_token
from retaguarda.billing.domain import OPEN_STATUSES, Invoice
from retaguarda.billing.due import charges_due
from retaguarda.i18n import format_percent, gettext
from retaguarda.shared.errors import ValidationError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def parse_date(value: Any, field: str) -> date:
    from retaguarda.i18n import parse_date as parse_typed_date

    try:  # aaaa-mm-dd, or dd/mm/aaaa as people type it
        return parse_typed_date(str(value))
    except ValueError:
        raise ValidationError(field, "must be a date YYYY-MM-DD") from None


def parse_instant(value: Any, field: str) -> datetime | None:
    """ISO date-time with offset; a bare date means noon in São Paulo; empty means now."""
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) == 10:
        from retaguarda.shared.clock import SAO_PAULO

        return datetime.combine(parse_date(text, field), datetime.min.time(), tzinfo=SAO_PAULO).replace(hour=12)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field, "must be an ISO 8601 date-time with offset") from None
    if at.tzinfo is None:
        raise ValidationError(field, "needs a timezone offset (e.g. -03:00 or Z)")
    return at


def public_path(secret: str, invoice_id: str) -> str:
    return f"/pay/{invoice_id}/{public_token(secret, invoice_id)}"


def invoice_view(container: Container, inv: Invoice, now: datetime | None = None) -> dict[str, Any]:
    billing = container.billing
    now = now or container.clock.now()
    today = local_date(now)
    terms = billing.settings_for(inv.tenant_id).terms
    due_today = inv.due_on(today, terms)
    charges = charges_due(inv, today, terms) if inv.status in OPEN_STATUSES else {
        "pix": inv.pix, "boleto": inv.boleto}
    return {
        "id": str(inv.id), "number": inv.number, "customer_id": inv.customer_id,
        "subscription_id": inv.subscription_id, "period_start": inv.period_start, "period_end": inv.period_end,
        "status": inv.status, "items": inv.items, "discount": inv.discount, "total": inv.total,
        "credit_applied": inv.credit_applied, "paid": inv.paid, "principal_paid": inv.principal_paid,
        "fines_paid": inv.fines_paid, "interest_paid": inv.interest_paid, "refunded": inv.refunded,
        "balance": inv.balance, "amount_due_today": due_today,
        "late_charges_today": m.cents(due_today - inv.balance) if due_today else m.ZERO,
        "issue_date": inv.issue_date, "due_date": inv.due_date,
        "amount_due": due_today, "pix": charges["pix"], "boleto": charges["boleto"],
        "payments": [{k: v for k, v in p.items()} for p in inv.payments],
        "reminders": list(inv.reminders), "cancel_reason": inv.cancel_reason,
        "refunds": [dict(r) for r in getattr(inv, "refund_requests", {}).values()],
        "public_url": container.settings.base_url + public_path(container.settings.secret_key, str(inv.id)),
        "version": inv.version, "created_at": inv.created_on,
        "documents": fiscal_documents(container, inv),
    }


def fiscal_documents(container: Container, inv: Invoice) -> list[dict[str, Any]]:
    """The invoice's fiscal documents (NFCom for the telecom lines, NFS-e for the value-added ones)
    through the fiscal context's service on the container; none while it is not installed."""
    nfcom = getattr(container, "nfcom", None)
    if nfcom is None or inv.status == "draft":
        return []
    documents: list[dict[str, Any]] = nfcom.invoice_documents(inv.tenant_id, str(inv.id))
    return documents


def pdf_view(container: Container, inv: Invoice) -> dict[str, Any]:
    view = invoice_view(container, inv)
    customer = container.customers.get_customer(inv.tenant_id, inv.customer_id)
    address = customer.address or {}
    settings = container.billing.settings_for(inv.tenant_id)
    return {
        "tenant": {"name": settings.values.get("merchant_name") or "Retaguarda", "document": "", "address": ""},
        "customer": {"name": customer.name, "document": customer.document, "email": customer.email,
                     "address": " ".join(str(address.get(k, "")) for k in ("street", "number", "city", "uf")).strip()},
        "number": inv.number, "issue_date": inv.issue_date or inv.created_on.date(), "due_date": inv.due_date,
        "status": inv.status,
        "items": [{"description": i["description"], "quantity": i["quantity"], "unit_price": i["unit_price"],
                   "total": i["amount"]} for i in inv.items],
        "discounts": inv.discount, "total": inv.total, "paid": view["paid"], "balance": inv.balance,
        "fine_interest_note": gettext(
            "After the due date: fine %(fine)s and interest %(interest)s a month, pro rata die.",
            fine=format_percent(settings.values["fine_percent"], 2),
            interest=format_percent(settings.values["interest_percent_month"], 2)),
        "pix": inv.pix, "boleto": inv.boleto, "payment_url": view["public_url"],
    }
