"""Billing commands: load → aggregate → save, never calling a provider.

Uniqueness rules are Claims saved atomically with the write that needs them:
- `billing-period` / `{subscription_id}:{period_start}`: one invoice per subscription period;
- `billing-payment` / `{tenant}:{source}:{reference}`: a gateway payment is counted once;
- a `GatewayEvent` whose id derives from (provider, event id) records each accepted webhook once.
Invoice numbers come from the tenant's `billing:invoice` Sequence saved in the same call.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

import retaguarda.billing.money as m
from retaguarda.billing.domain import (
    BillingAccount,
    BillingRun,
    BillingSettings,
    DEFAULT_SETTINGS,
    GatewayEvent,
    Invoice,
    Plan,
    Subscription,
    account_id,
    gateway_event_id,
    settings_id,
)
from retaguarda.customers.domain import Customer
from retaguarda.services import Saved, Service
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.compare import same_secret
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import Sequence, next_number, sequence_id

PERIOD_SCOPE = "billing-period"
PAYMENT_SCOPE = "billing-payment"
INVOICE_SEQUENCE = "billing:invoice"
TRUST_HOURS = 48


def local_date(at: datetime) -> date:
    return at.astimezone(SAO_PAULO).date()


class DefaultSettings:
    """What a tenant that never configured billing gets (not saved)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.values = dict(DEFAULT_SETTINGS)
        self.version = 0

    terms = BillingSettings.terms
    public_values = BillingSettings.public_values


class Billing(Service):
    """Plans, subscriptions, invoices, payments, credit and blocking of one event store."""

    def __init__(self, store: Any, on_saved: Any, clock: Any, secret_key: str = "") -> None:
        super().__init__(store, on_saved)
        self.clock = clock
        self.secret_key = secret_key
        # Charges (PIX BR Code, boleto) are built by a function the installer provides, so this
        # module never imports the payment modules' concrete choices.
        self.charges: Callable[[Any, Invoice, Decimal], tuple[dict | None, dict | None]] = (
            lambda s, inv, amount: (None, None))

    # Settings ------------------------------------------------------------------------------
    def settings_for(self, tenant_id: str) -> Any:
        found = self.find(BillingSettings, settings_id(tenant_id))
        return found if found is not None else DefaultSettings(tenant_id)

    def configure(self, meta: Meta, **values: Any) -> Saved:
        def command() -> Saved:
            s = self.find(BillingSettings, settings_id(meta.tenant_id))
            if s is None:
                s = BillingSettings.configure(meta, **values)
                return Saved(s, self.save(s))
            diff = s.change(meta, **values)
            return Saved(s, self.save(s) if diff else 0)

        return self.retrying(command)

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
                amount = m.share(m.prorate(plan.price, period.factor), period, period.start, today)
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

    def set_subscription_status(self, meta: Meta, subscription_id: str, action: str, reason: str) -> Saved:
        def command() -> Saved:
            sub = self.load(Subscription, subscription_id, meta.tenant_id)
            if action == "suspend":
                sub.suspend(meta, reason)
            elif action == "resume":
                sub.resume(meta, reason)
            elif action == "cancel":
                sub.cancel(meta, reason, local_date(meta.at))
            else:
                raise ValidationError("action", "action must be suspend, resume or cancel")
            return Saved(sub, self.save(sub))

        return self.retrying(command)

    # Invoices ------------------------------------------------------------------------------
    def create_invoice(self, meta: Meta, *, customer_id: str, due_date: Any, items: Any,
                       discount: Any = "0") -> Saved:
        """A draft invoice with the next gap-free number of the tenant."""
        self._customer(meta.tenant_id, customer_id)

        def command() -> Saved:
            number, seq = next_number(self, INVOICE_SEQUENCE, meta)
            inv = Invoice.create(meta, number=number, customer_id=customer_id, items=items,
                                 due_date=due_date, discount=discount)
            return Saved(inv, self.save(inv, seq))

        return self.retrying(command, attempts=50)

    def issue_invoice(self, meta: Meta, invoice_id: str) -> Saved:
        """Issues a draft: applies the customer's credit and attaches PIX and boleto data."""
        settings = self.settings_for(meta.tenant_id)

        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            account = self._account(meta, inv.customer_id)
            aggregates = self._issue(meta, settings, inv, account)
            return Saved(inv, self.save(*aggregates))

        return self.retrying(command)

    def _issue(self, meta: Meta, settings: Any, inv: Invoice, account: BillingAccount) -> list[Any]:
        credit = min(account.credit, inv.total) if account.credit > 0 else Decimal("0.00")
        pix, boleto = self.charges(settings, inv, m.cents(inv.total - credit))
        inv.issue(meta, issue_date=local_date(meta.at), credit=credit, pix=pix, boleto=boleto)
        if credit > 0:
            account.debit(meta, credit, str(inv.id))
            return [inv, account]
        return [inv]

    def cancel_invoice(self, meta: Meta, invoice_id: str, reason: str) -> Saved:
        """Cancels; credit applied to it goes back to the customer."""
        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            inv.cancel(meta, reason)
            account = None
            if inv.credit_applied > 0:
                account = self._account(meta, inv.customer_id)
                account.credit_with(meta, inv.credit_applied, str(inv.id), "credit of a cancelled invoice")
            return Saved(inv, self.save(inv, account))

        return self.retrying(command)

    def register_payment(self, meta: Meta, invoice_id: str, *, amount: Any, method: str,
                         paid_at: datetime | None = None, reference: str = "", source: str = "manual",
                         extra: Iterable[Any] = ()) -> Saved:
        """Records a payment (once per `source`+`reference` when a reference is given).

        The split (principal, fine, interest, excess) is computed at the payment's date with the
        tenant's terms; excess and any payment of a cancelled invoice become customer credit.
        Paying the invoice that blocked the customer unblocks them (and the access network).
        Raises ConflictError("payment already registered") for a duplicate reference.
        """
        value = m.parse_amount(amount, "amount", maximum=m.MAX_PAYMENT)
        paid_at = paid_at or meta.at
        if paid_at.tzinfo is None:
            raise ValidationError("paid_at", "paid_at needs a timezone offset")
        settings = self.settings_for(meta.tenant_id)
        extras = [e for e in extra if e is not None]

        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            claim = None
            if reference:
                key = f"{meta.tenant_id}:{source}:{reference}"
                existing = self.find(Claim, claim_id(PAYMENT_SCOPE, key))
                if existing is not None:
                    raise ConflictError("payment already registered", field="reference")
                claim = Claim.take(PAYMENT_SCOPE, key, str(inv.id), meta)
            split = inv.receive_payment(meta, amount=value, method=method, paid_at=paid_at,
                                        paid_on=local_date(paid_at), reference=reference,
                                        terms=settings.terms)
            account = self._account(meta, inv.customer_id)
            if split.excess > 0:
                reason = ("payment of a cancelled invoice" if inv.status == "cancelled"
                          else "overpayment")
                account.credit_with(meta, split.excess, str(inv.id), reason)
            customer = None
            if inv.status == "paid" and account.blocked and account.block_invoice_id == str(inv.id):
                account.unblock(meta, f"invoice {inv.number} paid")
                customer = self._customer_to_unblock(inv.customer_id, meta)
            touched = account if account.pending_events else None
            return Saved(inv, self.save(inv, touched, claim, customer, *extras))

        return self.retrying(command)

    def refund_payment(self, meta: Meta, invoice_id: str, payment_id: str, amount: Any,
                       reference: str = "") -> Saved:
        """Refunds (part of) a payment. A card payment made through Stripe becomes a pending
        refund request that the `billing.stripe_refund` actor sends (the money moves when Stripe
        accepts it); other methods (cash, PIX, transfer…) are refunded by hand and recorded now."""
        value = m.parse_amount(amount, "amount", maximum=m.MAX_PAYMENT)

        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            payment = next((p for p in inv.payments if p["id"] == payment_id), None)
            if payment is not None and payment["method"] == "card" and str(payment["reference"]).startswith("pi_"):
                inv.request_refund(meta, refund_id=uuid.uuid4().hex, payment_id=payment_id, amount=value,
                                   provider="stripe")
            else:
                inv.refund(meta, payment_id=payment_id, amount=value, reference=reference)
            return Saved(inv, self.save(inv))

        return self.retrying(command)

    def record_refund(self, invoice_id: str, refund_id: str, *, ok: bool, attempts: int, reference: str = "",
                      error: str = "") -> bool:
        """The gateway's answer to a refund request: sent (money back) or failed (visible, retryable)."""
        def command() -> bool:
            inv = self.load(Invoice, invoice_id, None)
            meta = Meta(inv.tenant_id, "system:billing.stripe_refund", uuid.uuid4().hex, self.clock.now())
            changed = (inv.refund_sent(meta, refund_id, reference, attempts) if ok
                       else inv.refund_failed(meta, refund_id, error, attempts))
            if changed:
                self.save(inv)
            return changed

        return self.retrying(command)

    def retry_refund(self, meta: Meta, invoice_id: str, refund_id: str) -> Saved:
        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            inv.retry_refund(meta, refund_id)
            return Saved(inv, self.save(inv))

        return self.retrying(command)

    def start_checkout(self, meta: Meta, invoice_id: str, provider: str, session_id: str, url: str) -> Saved:
        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            inv.start_checkout(meta, provider, session_id, url)
            return Saved(inv, self.save(inv))

        return self.retrying(command)

    def get_invoice(self, tenant_id: str | None, invoice_id: str) -> Invoice:
        return self.load(Invoice, invoice_id, tenant_id)

    # Webhooks ------------------------------------------------------------------------------
    def accept_gateway_payment(self, meta: Meta, *, provider: str, event_id: str, raw_body: str,
                               invoice_id: str, amount: Decimal, method: str, paid_at: datetime,
                               reference: str) -> str:
        """Records a verified gateway event and the payment it confirms, atomically.

        Returns "recorded", "duplicate" (same event or same payment reference seen before).
        """
        if self.find(GatewayEvent, gateway_event_id(provider, event_id)) is not None:
            return "duplicate"
        event = GatewayEvent.accept(meta, provider=provider, event_id=event_id, raw_body=raw_body,
                                    invoice_id=invoice_id, outcome="payment")
        try:
            self.register_payment(meta, invoice_id, amount=amount, method=method, paid_at=paid_at,
                                  reference=reference, source=provider, extra=[event])
        except ConflictError as exc:
            if exc.field == "reference":
                return "duplicate"
            raise
        return "recorded"

    def record_gateway_event(self, meta: Meta, *, provider: str, event_id: str, raw_body: str,
                             invoice_id: str, outcome: str) -> str:
        """Records an accepted event that changes no invoice (e.g. a pending payment)."""
        event = GatewayEvent.accept(meta, provider=provider, event_id=event_id, raw_body=raw_body,
                                    invoice_id=invoice_id, outcome=outcome)
        try:
            self.save(event)
        except IntegrityError:
            return "duplicate"
        return "recorded"

    # Overdue, reminders, blocking ------------------------------------------------------------
    def mark_overdue(self, meta: Meta, invoice_id: str, on: date) -> bool:
        def command() -> bool:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            if inv.mark_overdue(meta, on):
                self.save(inv)
                return True
            return False

        return self.retrying(command)

    def send_reminder(self, meta: Meta, invoice_id: str, key: str, to: str, params: dict[str, Any]) -> bool:
        """Queues the reminder e-mail and records it on the invoice in one save (each key once)."""
        from retaguarda.notifications.domain import Email

        def command() -> bool:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            if key in inv.reminders or inv.status not in ("issued", "partially_paid", "overdue"):
                return False
            email = Email.compose(meta, to, "billing.reminder", params)
            inv.record_reminder(meta, key, str(email.id))
            self.save(inv, email)
            return True

        return self.retrying(command)

    def block_for(self, meta: Meta, customer_id: str, invoice_id: str, number: int) -> bool:
        """Blocks the customer (customers context) and the account, in one save."""
        def command() -> bool:
            account = self._account(meta, customer_id)
            if account.blocked:
                return False
            if account.trust_until is not None and meta.at < account.trust_until:
                return False  # trust unlock still running
            reason = f"overdue invoice {number}"
            account.block(meta, reason, invoice_id)
            customer = self._customer(meta.tenant_id, customer_id)
            if customer.status == "active":
                customer.block(meta, reason)
            else:
                customer = None
            self.save(account, customer)
            return True

        return self.retrying(command)

    def unblock_account(self, meta: Meta, customer_id: str, reason: str) -> bool:
        def command() -> bool:
            account = self._account(meta, customer_id)
            if not account.blocked:
                return False
            account.unblock(meta, reason)
            self.save(account, self._customer_to_unblock(customer_id, meta))
            return True

        return self.retrying(command)

    def trust_unlock(self, meta: Meta, customer_id: str) -> Saved:
        """48 h without the block, once per month; the next run after that blocks again."""
        def command() -> Saved:
            account = self._account(meta, customer_id)
            account.trust_unlock(meta, meta.at + timedelta(hours=TRUST_HOURS),
                                 month=local_date(meta.at).strftime("%Y-%m"))
            customer = self._customer_to_unblock(customer_id, meta, reason="trust unlock (48 h)")
            return Saved(account, self.save(account, customer))

        return self.retrying(command)

    def record_network(self, account_uuid: str, action: str, *, ok: bool, attempts: int,
                       error: str = "") -> None:
        def command() -> None:
            account = self.load(BillingAccount, account_uuid, None)
            meta = Meta(account.tenant_id, "system:billing.access_network", uuid.uuid4().hex, self.clock.now())
            changed = (account.network_sent(meta, action, attempts) if ok
                       else account.network_failed(meta, action, error, attempts))
            if changed:
                self.save(account)

        self.retrying(command)

    def retry_network(self, meta: Meta, customer_id: str) -> Saved:
        def command() -> Saved:
            account = self.load(BillingAccount, account_id(meta.tenant_id, customer_id), meta.tenant_id)
            account.retry_network(meta)
            return Saved(account, self.save(account))

        return self.retrying(command)

    def find_account(self, account_uuid: str) -> BillingAccount | None:
        try:
            return self.find(BillingAccount, UUID(str(account_uuid)))
        except ValueError:
            return None

    def get_account(self, tenant_id: str, customer_id: str) -> BillingAccount | None:
        return self.find(BillingAccount, account_id(tenant_id, customer_id))

    # Generation (batched) --------------------------------------------------------------------
    def generate_batch(self, meta: Meta, candidates: list[dict[str, Any]], *, attempts: int = 50,
                       claimed: Callable[[list[str]], set[str]] | None = None) -> int:
        """Invoices for `candidates` (dicts: subscription_id, customer_id, period (money.Period),
        plan_name, price, credit (bool hint)), in one atomic save with their period claims and
        the numbers of the tenant's sequence. Returns how many were created.

        Invoices of customers without credit are born issued (one `Invoice.Generated` event);
        the sequence advances once per batch (its numbers are all used by the same save, so they
        stay gap-free). First try: claims taken blind (no reads). When the save conflicts (another
        run claimed a period, or took numbers), the periods already claimed are dropped, found in
        bulk by `claimed(keys)` (the read model, caught up) and, after that, claim by claim.
        """
        settings = self.settings_for(meta.tenant_id)
        issue_date = local_date(meta.at)
        todo = candidates
        for attempt in range(attempts):
            if attempt:
                keys = [_period_key(c) for c in todo]
                if claimed is not None and attempt <= 2:
                    taken = claimed(keys)
                else:
                    taken = {k for k in keys if self.find(Claim, claim_id(PERIOD_SCOPE, k)) is not None}
                todo = [c for c, k in zip(todo, keys) if k not in taken]
                if not todo:
                    return 0
            seq = self.find(Sequence, sequence_id(meta.tenant_id, INVOICE_SEQUENCE))
            if seq is None:
                seq = Sequence.start(INVOICE_SEQUENCE, meta)
            first = seq.value + 1
            aggregates: list[Any] = []
            accounts: dict[str, BillingAccount] = {}
            for offset, c in enumerate(todo):
                period: m.Period = c["period"]
                number = first + offset
                amount = m.prorate(c["price"], period.factor)
                label = c["plan_name"] + ("" if period.full else " (pro rata)")
                description = f"{label} {period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}"
                if c.get("credit"):
                    inv = Invoice.create(
                        meta, number=number, customer_id=c["customer_id"],
                        items=[{"description": description, "quantity": "1", "unit_price": str(amount),
                                "kind": "plan"}],
                        due_date=period.due_date, subscription_id=c["subscription_id"],
                        period_start=period.start, period_end=period.end)
                    account = accounts.get(c["customer_id"]) or self._account(meta, c["customer_id"])
                    accounts[c["customer_id"]] = account
                    aggregates.extend(a for a in self._issue(meta, settings, inv, account) if a is not account)
                else:
                    invoice_id = uuid.uuid4()
                    pix, boleto = self.charges(settings, _Draft(invoice_id, number, period.due_date), m.cents(amount))
                    inv = Invoice.generate(
                        meta, invoice_id=invoice_id, number=number, customer_id=c["customer_id"],
                        subscription_id=c["subscription_id"], period_start=period.start, period_end=period.end,
                        description=description, amount=amount, due_date=period.due_date,
                        issue_date=issue_date, pix=pix, boleto=boleto)
                    aggregates.append(inv)
                aggregates.append(Claim.take(PERIOD_SCOPE, _period_key(c), str(inv.id), meta))
            aggregates.extend(a for a in accounts.values() if a.pending_events)
            _advance(seq, meta, len(todo))
            try:
                self.save(seq, *aggregates)
                return len(todo)
            except IntegrityError:
                if attempt:
                    time.sleep(random.uniform(0.002, 0.005 * (2 ** min(attempt, 6))))
        raise ConflictError("generation kept conflicting with another run; run it again")

    def record_run(self, meta: Meta, run_date: date, trigger: str, results: dict[str, Any]) -> Saved:
        run = BillingRun.finish(meta, run_date, trigger, results)
        return Saved(run, self.save(run))

    # Helpers -------------------------------------------------------------------------------
    def _account(self, meta: Meta, customer_id: str) -> BillingAccount:
        found = self.find(BillingAccount, account_id(meta.tenant_id, customer_id))
        return found if found is not None else BillingAccount.open(meta, customer_id)

    def _customer(self, tenant_id: str, customer_id: str) -> Customer:
        try:
            return self.load(Customer, customer_id, tenant_id)
        except NotFoundError:
            raise ValidationError("customer_id", "no such customer") from None

    def _customer_to_unblock(self, customer_id: str, meta: Meta, reason: str = "") -> Customer | None:
        customer = self.find(Customer, UUID(str(customer_id)))
        if customer is None or customer.status != "blocked" or not customer.status_reason.startswith(
                ("overdue invoice", "trust unlock")):
            return None
        customer.unblock(meta, reason or "overdue invoice paid")
        return customer

    def _plan(self, tenant_id: str, plan_id: str) -> Plan:
        try:
            return self.load(Plan, plan_id, tenant_id)
        except NotFoundError:
            raise ValidationError("plan_id", "no such plan") from None


class _Draft:
    """What the charge builders read of an invoice that is not created yet."""

    def __init__(self, invoice_id: UUID, number: int, due_date: date) -> None:
        self.id, self.number, self.due_date = invoice_id, number, due_date


def _advance(seq: Sequence, meta: Meta, count: int) -> None:
    """Takes `count` numbers at once (value+1 … value+count), all used by the same atomic save."""
    if count:
        seq.take(count, meta)


def _period_key(c: dict[str, Any]) -> str:
    return f"{c['subscription_id']}:{c['period'].start.isoformat()}"


def public_token(secret: str, invoice_id: str) -> str:
    """The unguessable part of an invoice's public payment link (HMAC of its id)."""
    import base64
    import hashlib
    import hmac

    mac = hmac.new(secret.encode(), f"billing-public\x1f{invoice_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def check_public_token(secret: str, invoice_id: str, token: str) -> bool:
    import hmac

    return same_secret(public_token(secret, invoice_id), token or "")
