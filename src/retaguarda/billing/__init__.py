"""Billing context: plans, subscriptions, invoices, payments (PIX, boleto, Stripe, Mercado Pago),
reminders and blocking. Public surface: the aggregates (and their events) and the service."""

from __future__ import annotations

from typing import Any

from retaguarda.billing.domain import (
    BillingAccount,
    BillingRun,
    BillingSettings,
    Invoice,
    Plan,
    Subscription,
)

__all__ = ["Billing", "BillingAccount", "BillingRun", "BillingSettings", "Invoice", "Plan", "Subscription",
           "invoices_of_competence"]


def __getattr__(name: str) -> Any:
    # The service imports the payment modules; load it only when asked for.
    if name == "Billing":
        from retaguarda.billing.application import Billing

        return Billing
    if name == "invoices_of_competence":  # (number, id) of a month's invoices, for fiscal's bulk run
        from retaguarda.billing.runs import invoices_of_competence

        return invoices_of_competence
    raise AttributeError(name)
