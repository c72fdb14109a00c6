"""Billing aggregates: Plan, Subscription, Invoice, BillingAccount, BillingSettings, BillingRun.

Pure: stdlib, eventsourcing.domain (through the base Aggregate) and retaguarda.shared only. The
money rules live in `retaguarda.billing.money`, which is pure as well.

Split by aggregate into modules (common, plans, invoice, account, settings); this package re-exports
every name the single module had, and keeps each aggregate's stored event topics
(`retaguarda.billing.domain:Class.Event`), so logs written before the split replay unchanged."""

from __future__ import annotations

from retaguarda.billing.domain.account import (
    BillingAccount,
)
from retaguarda.billing.domain.common import (
    CYCLES,
    INVOICE_STATUSES,
    ITEM_KINDS,
    METHODS,
    OPEN_STATUSES,
    PLAN_KINDS,
    SUBSCRIPTION_STATUSES,
    account_id,
    settings_id,
)
from retaguarda.billing.domain.invoice import (
    Invoice,
    clean_items,
)
from retaguarda.billing.domain.plans import (
    FISCAL_CLASSES,
    Plan,
    Subscription,
    plan_items,
)
from retaguarda.billing.domain.settings import (
    DEFAULT_SETTINGS,
    SECRET_SETTINGS,
    BillingRun,
    BillingSettings,
    GatewayEvent,
    clean_settings,
    gateway_event_id,
)
from retaguarda.shared.topics import keep_topics

keep_topics("retaguarda.billing.domain", Plan, Subscription, Invoice, BillingAccount, BillingSettings, GatewayEvent, BillingRun)

__all__ = [
    "CYCLES",
    "DEFAULT_SETTINGS",
    "FISCAL_CLASSES",
    "INVOICE_STATUSES",
    "ITEM_KINDS",
    "METHODS",
    "OPEN_STATUSES",
    "PLAN_KINDS",
    "SECRET_SETTINGS",
    "SUBSCRIPTION_STATUSES",
    "BillingAccount",
    "BillingRun",
    "BillingSettings",
    "GatewayEvent",
    "Invoice",
    "Plan",
    "Subscription",
    "account_id",
    "clean_items",
    "clean_settings",
    "gateway_event_id",
    "plan_items",
    "settings_id",
]
