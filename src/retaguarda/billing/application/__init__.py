"""Billing commands: load → aggregate → save, never calling a provider.

Uniqueness rules are Claims saved atomically with the write that needs them:
- `billing-period` / `{subscription_id}:{period_start}`: one invoice per subscription period;
- `billing-payment` / `{tenant}:{source}:{reference}`: a gateway payment is counted once;
- a `GatewayEvent` whose id derives from (provider, event id) records each accepted webhook once.
Invoice numbers come from the tenant's `billing:invoice` Sequence saved in the same call.

The service is assembled from one mixin per group of use cases (subscriptions, invoices, collection);
this package re-exports every name the single module had."""

from __future__ import annotations

from retaguarda.billing.application.collection import CollectionCommands
from retaguarda.billing.application.common import (
    INVOICE_SEQUENCE,
    PAYMENT_SCOPE,
    PERIOD_SCOPE,
    TRUST_HOURS,
    DefaultSettings,
    check_public_token,
    local_date,
    public_token,
)
from retaguarda.billing.application.invoices import InvoiceCommands
from retaguarda.billing.application.subscriptions import SubscriptionCommands


class Billing(SubscriptionCommands, InvoiceCommands, CollectionCommands):
    """Plans, subscriptions, invoices, payments, credit and blocking of one event store."""


__all__ = [
    "INVOICE_SEQUENCE",
    "PAYMENT_SCOPE",
    "PERIOD_SCOPE",
    "TRUST_HOURS",
    "Billing",
    "DefaultSettings",
    "check_public_token",
    "local_date",
    "public_token",
]
