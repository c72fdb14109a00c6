"""Billing use cases for the catalogue and subscriptions: plans, subscribing, plan changes, cancellation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import retaguarda.billing.money as m
from retaguarda.billing.application.base import BillingBase
from retaguarda.billing.application.common import INVOICE_SEQUENCE, PERIOD_SCOPE, local_date
from retaguarda.billing.domain import (
    Invoice,
    Plan,
    Subscription,
)
from retaguarda.services import Saved
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number

SUSPENSION_BLOCK = "subscription suspended"


class SubscriptionCommands(BillingBase):
    """Plans and subscriptions."""

    # Catalogue -----------------------------------------------------------------------------
    def create_plan(self, meta: Meta, **fields: Any) -> Saved:
        plan = Plan.create(meta, **fields)
        return Saved(plan, self.save(plan))

    def update_plan(self, meta: Meta, plan_id: str, **changes: Any) -> Saved:
        def command() -> Saved:
            plan = self.load(Plan, plan_id, meta.tenant_id)
            diff = plan.change(meta, **changes)
            return Saved(plan, self.save(plan) if diff else 0)

        return self.retrying(command)

    # Subscriptions -------------------------------------------------------------------------
    def subscribe(self, meta: Meta, *, customer_id: str, plan_id: str, due_day: Any, start_date: Any) -> Saved:
        self._customer(meta.tenant_id, customer_id)
        plan = self._plan(meta.tenant_id, plan_id)
        sub = Subscription.start(meta, customer_id=customer_id, plan=plan, due_day=due_day, start_date=start_date)
        return Saved(sub, self.save(sub))

    def change_subscription_plan(self, meta: Meta, subscription_id: str, plan_id: str,
                                 effective_from: date) -> Saved:
        plan = self._plan(meta.tenant_id, plan_id)

        def command() -> Saved:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            sub.change_plan(meta, plan, effective_from)
            return Saved(sub, self.save(sub))

        return self.retrying(command)

    def set_subscription_price(self, meta: Meta, subscription_id: str, price: Any,
                               effective_from: date | None = None, reason: str = "") -> Saved:
        """Bills the subscription at `price` (a contract's agreed price) from `effective_from`, by
        default the start of the next period not begun yet; the billing run and the final invoice
        use it instead of the plan's price. Idempotent: the same price from the same date records
        nothing (`Saved.position` 0)."""
        def command() -> Saved:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            start = effective_from or self.next_period_start(meta.tenant_id, sub, local_date(meta.at))
            return Saved(sub, self.save(sub) if sub.set_price(meta, price, start, reason) else 0)

        return self.retrying(command)

    def next_period_start(self, tenant_id: str, sub: Subscription, on: date) -> date:
        plan = self._plan(tenant_id, sub.plan_for(on))
        if on < sub.start_date:
            return sub.start_date
        return m.period_containing(sub.start_date, sub.due_day, plan.cycle, on).end + timedelta(days=1)

    def _billed(self, tenant_id: str, sub: Subscription, period: m.Period) -> Invoice | None:
        claim = self.find(Claim, claim_id(PERIOD_SCOPE, f"{sub.id}:{period.start.isoformat()}"))
        if claim is None or not claim.owner_id:
            return None
        inv = self.find(Invoice, UUID(claim.owner_id))
        return inv if inv is not None and inv.status not in ("cancelled", "draft") else None

    def change_plan_now(self, meta: Meta, subscription_id: str, plan_id: str) -> tuple[Saved, dict[str, Any]]:
        """Switches plan today, pro-rated by days over the current period: the new plan's share of
        the remaining days is charged on an adjustment invoice, discounted by the old plan's
        (already billed) share; when the old share is larger, the difference becomes credit.
        Later periods are billed on the new plan."""
        new_plan = self._plan(meta.tenant_id, plan_id)
        today = local_date(meta.at)
        settings = self.settings_for(meta.tenant_id)

        def command() -> tuple[Saved, dict[str, Any]]:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            if sub.status != "active":
                raise ConflictError(f"only an active subscription can change plan now (it is {sub.status})")
            old_plan = self._plan(meta.tenant_id, sub.plan_for(today))
            if str(old_plan.id) == str(new_plan.id):
                raise ConflictError("the subscription is already on this plan")
            if new_plan.cycle != old_plan.cycle:
                raise ValidationError("plan_id", "an immediate change needs a plan with the same billing cycle; "
                                                 "schedule it for the next period instead")
            period = m.period_containing(sub.start_date, sub.due_day, old_plan.cycle, today)
            if sub.pending_from and period.start < sub.pending_from <= period.end:
                raise ConflictError("the plan was already changed in this period; change it again next period")
            billed = self._billed(meta.tenant_id, sub, period) if today >= sub.start_date else None
            if billed is None:
                # Nothing billed for this period yet: the whole period goes on the new plan.
                sub.change_plan(meta, new_plan, max(period.start, sub.start_date))
                return Saved(sub, self.save(sub)), {"invoice": None, "credit": "0.00"}
            sub.change_plan(meta, new_plan, today)
            billed_total = billed.total
            unused_old = m.share(billed_total, period, today, period.end)
            new_share = m.share(m.prorate(new_plan.price, period.factor), period, today, period.end)
            account = self._account(meta, sub.customer_id)
            if new_share > unused_old:
                number, seq = next_number(self, INVOICE_SEQUENCE, meta)
                inv = Invoice.create(
                    meta, number=number, customer_id=sub.customer_id, due_date=today + timedelta(days=7),
                    subscription_id=str(sub.id), discount=str(unused_old),
                    items=[{"description": f"{new_plan.name} (plan change, pro rata "
                                           f"{today:%d/%m/%Y}–{period.end:%d/%m/%Y}; unused {old_plan.name} "
                                           f"discounted)", "quantity": "1", "unit_price": str(new_share),
                            "kind": "plan"}])
                touched = self._issue(meta, settings, inv, account)
                position = self.save(sub, seq, *touched)
                return Saved(sub, position), {"invoice": {"id": str(inv.id), "number": inv.number,
                                                          "total": str(inv.total)}, "credit": "0.00"}
            credit = m.cents(unused_old - new_share)
            account.credit_with(meta, credit, str(billed.id), f"plan change to {new_plan.name}")
            position = self.save(sub, account if account.pending_events else None)
            return Saved(sub, position), {"invoice": None, "credit": str(credit)}

        return self.retrying(command, attempts=50)

    def cancel_subscription(self, meta: Meta, subscription_id: str, reason: str,
                            final_invoice: bool = True) -> tuple[Saved, dict[str, Any]]:
        """Cancels today. With `final_invoice`: the days used in a period not billed yet go on a
        final invoice; the unused days of a period already billed become credit (applied to that
        final invoice when there is one); open, unpaid invoices of later periods are cancelled."""
        today = local_date(meta.at)
        settings = self.settings_for(meta.tenant_id)

        def command() -> tuple[Saved, dict[str, Any]]:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            sub.cancel(meta, reason, today)
            result: dict[str, Any] = {"invoice": None, "credit": "0.00", "cancelled_invoices": []}
            if not final_invoice or today < sub.start_date:
                return Saved(sub, self.save(sub)), result
            plan = self._plan(meta.tenant_id, sub.plan_for(today))
            period = m.period_containing(sub.start_date, sub.due_day, plan.cycle, today)
            account = self._account(meta, sub.customer_id)
            touched: list[Any] = []
            billed = self._billed(meta.tenant_id, sub, period)
            if billed is not None:
                unused = m.share(billed.total, period, today + timedelta(days=1), period.end)
                account.credit_with(meta, unused, str(billed.id), "subscription cancelled: unused days")
                result["credit"] = str(unused)
            else:
                price = sub.price_for(period.start, plan.price)
                amount = m.share(m.prorate(price, period.factor), period, period.start, today)
                if amount > 0:
                    number, seq = next_number(self, INVOICE_SEQUENCE, meta)
                    inv = Invoice.create(
                        meta, number=number, customer_id=sub.customer_id, due_date=today + timedelta(days=7),
                        subscription_id=str(sub.id),
                        items=[{"description": f"{plan.name} final invoice {period.start:%d/%m/%Y}–"
                                               f"{today:%d/%m/%Y} (cancelled)", "quantity": "1",
                                "unit_price": str(amount), "kind": "plan"}])
                    touched += [seq, *(a for a in self._issue(meta, settings, inv, account) if a is not account)]
                    result["invoice"] = {"id": str(inv.id), "number": inv.number, "total": str(inv.total)}
            # Later periods billed in advance (lead time): cancel them while nothing was paid.
            start = period.end + timedelta(days=1)
            for _ in range(24):
                nxt = m.period_at(sub.start_date, sub.due_day, plan.cycle, start)
                later = self._billed(meta.tenant_id, sub, nxt)
                if later is None:
                    break
                if later.principal_paid == 0 and later.status in ("issued", "overdue"):
                    later.cancel(meta, "subscription cancelled")
                    if later.credit_applied > 0:
                        account.credit_with(meta, later.credit_applied, str(later.id), "credit of a cancelled invoice")
                    touched.append(later)
                    result["cancelled_invoices"].append(str(later.id))
                start = nxt.end + timedelta(days=1)
            position = self.save(sub, *touched, account if account.pending_events else None)
            return Saved(sub, position), result

        return self.retrying(command, attempts=50)

    def set_subscription_status(self, meta: Meta, subscription_id: str, action: str, reason: str,
                                *, block: bool = False) -> Saved:
        """Suspends, resumes or cancels. With `block` (a suspended contract), suspending also blocks
        the customer and records the access-network block (the account's `Blocked`, delivered by
        billing's network job), in the same save; resuming lifts only a block that a suspension
        made (an overdue-invoice block stays until that invoice is paid)."""
        def command() -> Saved:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            touched: list[Any] = []
            if action == "suspend":
                sub.suspend(meta, reason)
                if block:
                    touched = self._suspension_block(meta, sub.customer_id, reason)
            elif action == "resume":
                sub.resume(meta, reason)
                if block:
                    touched = self._suspension_unblock(meta, sub.customer_id, reason)
            elif action == "cancel":
                sub.cancel(meta, reason, local_date(meta.at))
            else:
                raise ValidationError("action", "action must be suspend, resume or cancel")
            return Saved(sub, self.save(sub, *touched))

        return self.retrying(command)

    def _suspension_block(self, meta: Meta, customer_id: str, reason: str) -> list[Any]:
        account = self._account(meta, customer_id)
        text = f"{SUSPENSION_BLOCK}: {reason}"[:200]
        touched: list[Any] = []
        if account.block(meta, text, ""):
            touched.append(account)
        customer = self._customer(meta.tenant_id, customer_id)
        if customer.status == "active":
            customer.block(meta, text)
            touched.append(customer)
        return touched

    def _suspension_unblock(self, meta: Meta, customer_id: str, reason: str) -> list[Any]:
        account = self._account(meta, customer_id)
        touched: list[Any] = []
        if account.blocked and account.block_reason.startswith(SUSPENSION_BLOCK):
            account.unblock(meta, reason)
            touched.append(account)
            customer = self._customer(meta.tenant_id, customer_id)
            if customer.status == "blocked" and customer.status_reason.startswith(SUSPENSION_BLOCK):
                customer.unblock(meta, reason)
                touched.append(customer)
        return touched
