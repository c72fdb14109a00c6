"""The billing context: plans, subscriptions, invoices, payments (PIX, boleto, cards), blocking."""

from __future__ import annotations

from projections.billing import projections
from retaguarda.billing import actors, api, dashboard, pages
from retaguarda.billing.domain import BillingAccount, Invoice
from retaguarda.billing.install import (
    find_stuck_network,
    install,
    network_args,
    refund_args,
    reminder_email,
    seed_demo,
)
from retaguarda.integrations import Daily, PeriodicJob, Reconciler, Trigger
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context

CONTEXT = Context(
    name="billing", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.notify_access_network, actors.send_stripe_refund, actors.daily_run),
    triggers=(
        *(Trigger(event_class, actors.NETWORK_ACTOR, network_args)
          for event_class in (BillingAccount.Blocked, BillingAccount.Unblocked, BillingAccount.TrustUnlocked,
                              BillingAccount.NetworkRetryRequested)),
        *(Trigger(event_class, actors.REFUND_ACTOR, refund_args)
          for event_class in (Invoice.RefundRequested, Invoice.RefundRetryRequested)),
    ),
    periodic=(PeriodicJob("billing.daily_run", Daily("06:00"), actors.DAILY_ACTOR,
                          "Billing run: invoices, overdue, reminders, blocking"),),
    reconcilers=(Reconciler("billing_access_network", find_stuck_network),),
    email_templates=(EmailTemplate("billing.reminder", reminder_email),),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
