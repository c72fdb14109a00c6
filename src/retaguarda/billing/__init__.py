"""Billing context: plans, subscriptions, invoices, payments (PIX, boleto, Stripe, Mercado Pago),
reminders and blocking. Public surface: the aggregates (and their events) and the service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.billing.domain import (
    BillingAccount,
    BillingRun,
    BillingSettings,
    Invoice,
    Plan,
    Subscription,
)

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

__all__ = ["Billing", "BillingAccount", "BillingRun", "BillingSettings", "Invoice", "Plan", "Subscription",
           "invoice_pdf", "invoices_of_competence", "pay_path"]


def __getattr__(name: str) -> Any:
    # The service imports the payment modules; load it only when asked for.
    if name == "Billing":
        from retaguarda.billing.application import Billing

        return Billing
    if name == "invoices_of_competence":  # (number, id) of a month's invoices, for fiscal's bulk run
        from retaguarda.billing.runs import invoices_of_competence

        return invoices_of_competence
    raise AttributeError(name)


def pay_path(secret: str, invoice_id: str) -> str:
    """The public payment page of an invoice (PIX, boleto, card), for the customer portal."""
    from retaguarda.billing.application import public_token

    return f"/pay/{invoice_id}/{public_token(secret, invoice_id)}"


def invoice_pdf(container: Container, invoice: Invoice) -> bytes:
    """The invoice PDF as staff download it (the customer portal serves it for own invoices)."""
    from retaguarda.billing.pdf import render_invoice_pdf
    from retaguarda.billing.views import pdf_view

    return render_invoice_pdf(pdf_view(container, invoice))
