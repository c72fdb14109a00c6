"""Billing aggregates: Plan, Subscription, Invoice, BillingAccount, BillingSettings, BillingRun.

Pure: stdlib, eventsourcing.domain (through the base Aggregate) and retaguarda.shared only. The
money rules live in `retaguarda.billing.money`, which is pure as well.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

import retaguarda.billing.money as m

CYCLES = tuple(m.CYCLE_MONTHS) + ("once",)
PLAN_KINDS = ("plan", "product", "service")
ITEM_KINDS = ("plan", "product", "service")
METHODS = ("pix", "boleto", "card", "cash", "transfer", "credit")
INVOICE_STATUSES = ("draft", "issued", "partially_paid", "overdue", "paid", "cancelled")
OPEN_STATUSES = ("issued", "partially_paid", "overdue")
SUBSCRIPTION_STATUSES = ("active", "suspended", "cancelled")

_NS = uuid.UUID("a4a3f1c6-2b7e-4c51-8f0e-41d6b7b9c0d2")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NS, f"settings\x1f{tenant_id}")


def account_id(tenant_id: str, customer_id: str) -> UUID:
    return uuid.uuid5(_NS, f"account\x1f{tenant_id}\x1f{customer_id}")


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


# Plan --------------------------------------------------------------------------------------

class Plan(Aggregate):
    """A recurring plan (cycle monthly … annual) or a one-off product/service (cycle `once`)."""

    class Created(Aggregate.Created):
        name: str
        price: Decimal
        cycle: str
        kind: str
        active: bool

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, plan: "Plan") -> None:
            for key, value in self.changes.items():
                setattr(plan, key, Decimal(value) if key == "price" else value)

    @classmethod
    def create(cls, meta: Meta, *, name: Any, price: Any, cycle: Any = "monthly", kind: Any = "plan",
               active: Any = True) -> "Plan":
        fields = _plan_fields(dict(name=name, price=price, cycle=cycle, kind=kind, active=active))
        return cls._open(cls.Created, meta, id=uuid.uuid4(), **fields)

    def change(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        cleaned = _plan_fields({**{k: getattr(self, k) for k in ("name", "price", "cycle", "kind", "active")},
                                **changes})
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Changed, meta, changes={k: (str(v) if k == "price" else v) for k, v in diff.items()})
        return diff


def _plan_fields(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["name"] = _text(data["name"], "name", 120)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        out["price"] = m.parse_amount(data["price"], "price", allow_zero=True, maximum=m.MAX_PLAN_PRICE)
    except ValidationError as exc:
        errors.update(exc.errors)
    kind = data.get("kind") or "plan"
    if kind not in PLAN_KINDS:
        errors["kind"] = f"kind must be one of {', '.join(PLAN_KINDS)}"
    out["kind"] = kind
    cycle = data.get("cycle") or ("monthly" if kind == "plan" else "once")
    if cycle not in CYCLES:
        errors["cycle"] = f"cycle must be one of {', '.join(CYCLES)}"
    elif kind == "plan" and cycle == "once":
        errors["cycle"] = "a recurring plan needs a billing cycle"
    out["cycle"] = cycle
    if not isinstance(data.get("active", True), bool):
        errors["active"] = "active must be true or false"
    out["active"] = bool(data.get("active", True))
    if errors:
        raise ValidationError.many(errors)
    return out


# Subscription ------------------------------------------------------------------------------

class Subscription(Aggregate):
    """A customer's plan: due day 1–28, start date, status, plan changes at the next period."""

    class Started(Aggregate.Created):
        customer_id: str
        plan_id: str
        due_day: int
        start_date: date

        def apply(self, sub: "Subscription") -> None:
            super().apply(sub)
            sub.status = "active"
            sub.pending_plan_id = None
            sub.pending_from = None
            sub.status_reason = ""

    class PlanChangeScheduled(Aggregate.Event):
        plan_id: str
        effective_from: date

        def apply(self, sub: "Subscription") -> None:
            sub.pending_plan_id = self.plan_id
            sub.pending_from = self.effective_from

    class Suspended(Aggregate.Event):
        reason: str

        def apply(self, sub: "Subscription") -> None:
            sub.status = "suspended"
            sub.status_reason = self.reason

    class Resumed(Aggregate.Event):
        reason: str

        def apply(self, sub: "Subscription") -> None:
            sub.status = "active"
            sub.status_reason = self.reason

    class Cancelled(Aggregate.Event):
        reason: str
        end_date: date

        def apply(self, sub: "Subscription") -> None:
            sub.status = "cancelled"
            sub.status_reason = self.reason
            sub.end_date = self.end_date

    @classmethod
    def start(cls, meta: Meta, *, customer_id: str, plan: Plan, due_day: Any, start_date: Any) -> "Subscription":
        errors: dict[str, str] = {}
        if plan.kind != "plan" or plan.cycle == "once":
            errors["plan_id"] = "only a recurring plan can be subscribed"
        elif not plan.active:
            errors["plan_id"] = "the plan is not active"
        if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= 28:
            errors["due_day"] = "due_day must be an integer from 1 to 28"
        if not isinstance(start_date, date):
            errors["start_date"] = "start_date must be a date (YYYY-MM-DD)"
        if errors:
            raise ValidationError.many(errors)
        return cls._open(cls.Started, meta, id=uuid.uuid4(), customer_id=str(customer_id),
                         plan_id=str(plan.id), due_day=due_day, start_date=start_date)

    def change_plan(self, meta: Meta, plan: Plan, effective_from: date) -> None:
        if self.status == "cancelled":
            raise ConflictError("a cancelled subscription cannot change plan")
        if plan.kind != "plan" or not plan.active:
            raise ValidationError("plan_id", "only an active recurring plan can be subscribed")
        self._record(self.PlanChangeScheduled, meta, plan_id=str(plan.id), effective_from=effective_from)

    def plan_for(self, period_start: date) -> str:
        if self.pending_plan_id and self.pending_from and period_start >= self.pending_from:
            return self.pending_plan_id
        return self.plan_id

    def suspend(self, meta: Meta, reason: str) -> None:
        if self.status != "active":
            raise ConflictError(f"only an active subscription can be suspended (it is {self.status})")
        self._record(self.Suspended, meta, reason=_text(reason, "reason", 300))

    def resume(self, meta: Meta, reason: str) -> None:
        if self.status != "suspended":
            raise ConflictError(f"only a suspended subscription can be resumed (it is {self.status})")
        self._record(self.Resumed, meta, reason=_text(reason, "reason", 300))

    def cancel(self, meta: Meta, reason: str, end_date: date) -> None:
        if self.status == "cancelled":
            raise ConflictError("the subscription is already cancelled")
        self._record(self.Cancelled, meta, reason=_text(reason, "reason", 300), end_date=end_date)


# Invoice -----------------------------------------------------------------------------------

def clean_items(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise ValidationError("items", "an invoice needs at least one item")
    if len(items) > 100:
        raise ValidationError("items", "an invoice has at most 100 items")
    out, errors = [], {}
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors[f"items[{i}]"] = "each item is an object"
            continue
        try:
            description = _text(raw.get("description"), f"items[{i}].description", 200)
            quantity = m.parse_quantity(raw.get("quantity", "1"), f"items[{i}].quantity")
            unit_price = m.parse_amount(raw.get("unit_price"), f"items[{i}].unit_price", allow_zero=True,
                                        maximum=m.MAX_UNIT_PRICE)
            kind = raw.get("kind") or "service"
            if kind not in ITEM_KINDS:
                raise ValidationError(f"items[{i}].kind", f"kind must be one of {', '.join(ITEM_KINDS)}")
        except ValidationError as exc:
            errors.update(exc.errors)
            continue
        out.append({"description": description, "quantity": str(quantity), "unit_price": str(unit_price),
                    "kind": kind, "amount": str(m.line_amount(quantity, unit_price))})
    if errors:
        raise ValidationError.many(errors)
    return out


class Invoice(Aggregate):
    """A numbered invoice with items, payments, late charges, credit applied and refunds.

    Money state (all Decimal, cents): total, credit_applied, principal_paid, fines_paid,
    interest_paid, refunded. balance = total - credit_applied - principal_paid.
    """

    class Created(Aggregate.Created):
        number: int
        customer_id: str
        subscription_id: str | None
        period_start: date | None
        period_end: date | None
        items: list[dict[str, Any]]
        discount: Decimal
        total: Decimal
        due_date: date

        def apply(self, inv: "Invoice") -> None:
            super().apply(inv)
            inv.status = "draft"
            inv.issue_date = None
            inv.credit_applied = Decimal("0.00")
            inv.principal_paid = Decimal("0.00")
            inv.fines_paid = Decimal("0.00")
            inv.interest_paid = Decimal("0.00")
            inv.refunded = Decimal("0.00")
            inv.payments = []
            inv.pix = None
            inv.boleto = None
            inv.reminders = []
            inv.cancel_reason = ""
            inv.checkout = None
            inv.refund_requests = {}

    class Generated(Created):
        """A subscription period's invoice, created already issued: one event instead of
        Created + Issued (the generation run writes hundreds of thousands of them)."""
        issue_date: date
        pix: dict[str, Any] | None
        boleto: dict[str, Any] | None

        def apply(self, inv: "Invoice") -> None:
            super().apply(inv)
            inv.issue_date = self.issue_date
            inv.pix = self.pix
            inv.boleto = self.boleto
            inv.status = "paid" if inv.balance <= 0 else "issued"

    class Issued(Aggregate.Event):
        issue_date: date
        credit_applied: Decimal
        pix: dict[str, Any] | None
        boleto: dict[str, Any] | None

        def apply(self, inv: "Invoice") -> None:
            inv.issue_date = self.issue_date
            inv.credit_applied = Decimal(self.credit_applied)
            inv.pix = self.pix
            inv.boleto = self.boleto
            inv.status = "paid" if inv.balance <= 0 else "issued"

    class PaymentReceived(Aggregate.Event):
        payment_id: str
        amount: Decimal
        method: str
        paid_at: datetime
        paid_on: date
        reference: str
        principal: Decimal
        fine: Decimal
        interest: Decimal
        excess: Decimal

        def apply(self, inv: "Invoice") -> None:
            inv.principal_paid += Decimal(self.principal)
            inv.fines_paid += Decimal(self.fine)
            inv.interest_paid += Decimal(self.interest)
            inv.payments = [*inv.payments, {
                "id": self.payment_id, "amount": Decimal(self.amount), "method": self.method,
                "paid_at": self.paid_at, "reference": self.reference, "principal": Decimal(self.principal),
                "fine": Decimal(self.fine), "interest": Decimal(self.interest),
                "excess": Decimal(self.excess), "refunded": Decimal("0.00")}]
            if inv.status != "cancelled":
                inv.status = "paid" if inv.balance <= 0 else (
                    "overdue" if inv.status == "overdue" else "partially_paid")

    class BecameOverdue(Aggregate.Event):
        on: date

        def apply(self, inv: "Invoice") -> None:
            inv.status = "overdue"

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, inv: "Invoice") -> None:
            inv.status = "cancelled"
            inv.cancel_reason = self.reason

    class Refunded(Aggregate.Event):
        payment_id: str
        amount: Decimal
        reference: str
        principal: Decimal

        def apply(self, inv: "Invoice") -> None:
            inv.principal_paid -= Decimal(self.principal)
            inv.refunded += Decimal(self.amount)
            payments = []
            for p in inv.payments:
                if p["id"] == self.payment_id:
                    p = {**p, "refunded": p["refunded"] + Decimal(self.amount)}
                payments.append(p)
            inv.payments = payments
            if inv.status == "paid" and inv.balance > 0:
                inv.status = "partially_paid" if inv.principal_paid > 0 else "issued"

    class RefundRequested(Aggregate.Event):
        """A refund to be sent to the payment's gateway (card: Stripe) by an actor."""
        refund_id: str
        payment_id: str
        amount: Decimal
        provider: str

        def apply(self, inv: "Invoice") -> None:
            inv.refund_requests = {**inv.refund_requests, self.refund_id: {
                "id": self.refund_id, "payment_id": self.payment_id, "amount": Decimal(self.amount),
                "provider": self.provider, "state": "pending", "error": "", "attempts": 0,
                "reference": ""}}

    class RefundSent(Aggregate.Event):
        """The gateway accepted the refund: the money goes back (same effect as Refunded)."""
        refund_id: str
        payment_id: str
        amount: Decimal
        reference: str
        principal: Decimal
        attempts: int

        def apply(self, inv: "Invoice") -> None:
            Invoice.Refunded.apply(self, inv)  # type: ignore[arg-type]
            req = inv.refund_requests[self.refund_id]
            inv.refund_requests = {**inv.refund_requests, self.refund_id: {
                **req, "state": "sent", "error": "", "attempts": self.attempts, "reference": self.reference}}

    class RefundFailed(Aggregate.Event):
        refund_id: str
        error: str
        attempts: int

        def apply(self, inv: "Invoice") -> None:
            req = inv.refund_requests[self.refund_id]
            inv.refund_requests = {**inv.refund_requests, self.refund_id: {
                **req, "state": "failed", "error": self.error, "attempts": self.attempts}}

    class RefundRetryRequested(Aggregate.Event):
        refund_id: str

        def apply(self, inv: "Invoice") -> None:
            req = inv.refund_requests[self.refund_id]
            inv.refund_requests = {**inv.refund_requests, self.refund_id: {
                **req, "state": "pending", "error": ""}}

    class ReminderSent(Aggregate.Event):
        key: str
        email_id: str

        def apply(self, inv: "Invoice") -> None:
            inv.reminders = [*inv.reminders, self.key]

    class CheckoutStarted(Aggregate.Event):
        provider: str
        session_id: str
        url: str

        def apply(self, inv: "Invoice") -> None:
            inv.checkout = {"provider": self.provider, "session_id": self.session_id, "url": self.url}

    @classmethod
    def create(cls, meta: Meta, *, number: int, customer_id: str, items: Any, due_date: Any,
               discount: Any = "0", subscription_id: str | None = None, period_start: date | None = None,
               period_end: date | None = None, invoice_id: UUID | None = None) -> "Invoice":
        errors: dict[str, str] = {}
        cleaned: list[dict[str, Any]] = []
        try:
            cleaned = clean_items(items)
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            disc = m.parse_amount(discount, "discount", allow_zero=True, maximum=m.MAX_DISCOUNT)
        except ValidationError as exc:
            errors.update(exc.errors)
            disc = Decimal("0.00")
        if not isinstance(due_date, date):
            errors["due_date"] = "due_date must be a date (YYYY-MM-DD)"
        if not customer_id:
            errors["customer_id"] = "customer_id is required"
        if errors:
            raise ValidationError.many(errors)
        subtotal = sum((Decimal(i["amount"]) for i in cleaned), Decimal("0.00"))
        if disc > subtotal:
            raise ValidationError("discount", "discount cannot exceed the items' total")
        return cls._open(cls.Created, meta, id=invoice_id or uuid.uuid4(), number=number,
                         customer_id=str(customer_id), subscription_id=subscription_id,
                         period_start=period_start, period_end=period_end, items=cleaned,
                         discount=disc, total=m.cents(subtotal - disc), due_date=due_date)

    @classmethod
    def generate(cls, meta: Meta, *, invoice_id: UUID, number: int, customer_id: str, subscription_id: str,
                 period_start: date, period_end: date, description: str, amount: Decimal, due_date: date,
                 issue_date: date, pix: dict[str, Any] | None, boleto: dict[str, Any] | None) -> "Invoice":
        """The issued invoice of one subscription period (single plan line, no credit applied)."""
        amount = m.cents(amount)
        items = [{"description": description[:200], "quantity": "1", "unit_price": str(amount),
                  "kind": "plan", "amount": str(amount)}]
        return cls._open(cls.Generated, meta, id=invoice_id, number=number, customer_id=str(customer_id),
                         subscription_id=subscription_id, period_start=period_start, period_end=period_end,
                         items=items, discount=Decimal("0.00"), total=amount, due_date=due_date,
                         issue_date=issue_date, pix=pix, boleto=boleto)

    # Derived values
    @property
    def balance(self) -> Decimal:
        return m.cents(self.total - self.credit_applied - self.principal_paid)

    @property
    def paid(self) -> Decimal:
        """Everything received and kept: principal, fines and interest (refunds excluded)."""
        return m.cents(self.principal_paid + self.fines_paid + self.interest_paid)

    def due_on(self, on: date, terms: m.LateTerms) -> Decimal:
        """What settles the invoice on `on`, fine and interest included."""
        if self.status not in OPEN_STATUSES:
            return Decimal("0.00")
        return m.amount_due(self.balance, self.due_date, on, terms)

    # Commands
    def issue(self, meta: Meta, *, issue_date: date, credit: Decimal, pix: dict[str, Any] | None,
              boleto: dict[str, Any] | None) -> None:
        if self.status != "draft":
            raise ConflictError(f"only a draft invoice can be issued (it is {self.status})")
        self._record(self.Issued, meta, issue_date=issue_date, credit_applied=m.cents(min(credit, self.total)),
                     pix=pix, boleto=boleto)

    def receive_payment(self, meta: Meta, *, amount: Decimal, method: str, paid_at: datetime, paid_on: date,
                        reference: str, terms: m.LateTerms, payment_id: str | None = None) -> m.Split:
        """Records one payment and returns how it was applied (excess becomes customer credit)."""
        if method not in METHODS:
            raise ValidationError("method", f"method must be one of {', '.join(METHODS)}")
        if amount <= 0:
            raise ValidationError("amount", "amount must be greater than zero")
        if self.status == "draft":
            raise ConflictError("a draft invoice cannot receive payments; issue it first")
        if self.status in ("paid", "cancelled"):
            split = m.Split(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), m.cents(amount))
        else:
            split = m.split_payment(amount, self.balance, self.due_date, paid_on, terms)
        self._record(self.PaymentReceived, meta, payment_id=payment_id or uuid.uuid4().hex,
                     amount=m.cents(amount), method=method, paid_at=paid_at, paid_on=paid_on,
                     reference=str(reference or "")[:200], principal=split.principal, fine=split.fine,
                     interest=split.interest, excess=split.excess)
        return split

    def mark_overdue(self, meta: Meta, on: date) -> bool:
        if self.status not in ("issued", "partially_paid") or on <= self.due_date:
            return False
        self._record(self.BecameOverdue, meta, on=on)
        return True

    def cancel(self, meta: Meta, reason: str) -> None:
        if self.status == "cancelled":
            raise ConflictError("the invoice is already cancelled")
        if self.status == "paid":
            raise ConflictError("a paid invoice cannot be cancelled; refund its payments instead")
        if self.principal_paid > 0:
            raise ConflictError("an invoice with payments cannot be cancelled; refund them first")
        self._record(self.Cancelled, meta, reason=_text(reason, "reason", 300))

    def _refundable(self, payment_id: str, amount: Decimal) -> dict[str, Any]:
        payment = next((p for p in self.payments if p["id"] == payment_id), None)
        if payment is None:
            raise ValidationError("payment_id", "no such payment on this invoice")
        pending = sum((r["amount"] for r in self.refund_requests.values()
                       if r["payment_id"] == payment_id and r["state"] != "sent"), Decimal("0.00"))
        refundable = payment["principal"] + payment["fine"] + payment["interest"] - payment["refunded"] - pending
        if amount <= 0 or amount > refundable:
            raise ValidationError("amount", f"amount must be between 0.01 and {max(refundable, Decimal('0.00'))}")
        return payment

    # The refund rule (docs/billing.md, "Refunds"): a refund is money going back to the customer, not
    # a debt coming back. It never reopens the invoice: the balance, the status (a paid invoice stays
    # paid) and so overdue marking, reminders and blocking are untouched; the amount shows as refunded.
    # Refund events therefore record `principal` 0 ("principal reopened"); events recorded before
    # this rule keep the principal they reopened, so a replay gives the same history.
    NO_PRINCIPAL_REOPENED = Decimal("0.00")

    def refund(self, meta: Meta, *, payment_id: str, amount: Decimal, reference: str) -> Decimal:
        """Gives back (part of) a payment; returns the principal reopened (always 0, see the rule)."""
        self._refundable(payment_id, amount)
        self._record(self.Refunded, meta, payment_id=payment_id, amount=m.cents(amount),
                     reference=str(reference or "")[:200], principal=self.NO_PRINCIPAL_REOPENED)
        return self.NO_PRINCIPAL_REOPENED

    def request_refund(self, meta: Meta, *, refund_id: str, payment_id: str, amount: Decimal,
                       provider: str) -> None:
        """A refund that a gateway must carry out first (the money moves when it is sent)."""
        self._refundable(payment_id, amount)
        if refund_id in self.refund_requests:
            raise ConflictError("refund already requested")
        self._record(self.RefundRequested, meta, refund_id=refund_id, payment_id=payment_id,
                     amount=m.cents(amount), provider=provider)

    def refund_sent(self, meta: Meta, refund_id: str, reference: str, attempts: int) -> bool:
        req = self.refund_requests.get(refund_id)
        if req is None or req["state"] == "sent":
            return False
        self._record(self.RefundSent, meta, refund_id=refund_id, payment_id=req["payment_id"],
                     amount=req["amount"], reference=str(reference or "")[:200],
                     principal=self.NO_PRINCIPAL_REOPENED, attempts=attempts)
        return True

    def refund_failed(self, meta: Meta, refund_id: str, error: str, attempts: int) -> bool:
        req = self.refund_requests.get(refund_id)
        if req is None or req["state"] != "pending":
            return False
        self._record(self.RefundFailed, meta, refund_id=refund_id, error=error[:500], attempts=attempts)
        return True

    def retry_refund(self, meta: Meta, refund_id: str) -> None:
        req = self.refund_requests.get(refund_id)
        if req is None:
            raise ValidationError("refund_id", "no such refund on this invoice")
        if req["state"] != "failed":
            raise ConflictError(f"only a failed refund can be retried (it is {req['state']})")
        self._record(self.RefundRetryRequested, meta, refund_id=refund_id)

    def record_reminder(self, meta: Meta, key: str, email_id: str) -> None:
        if key in self.reminders:
            raise ConflictError(f"reminder {key} was already sent")
        self._record(self.ReminderSent, meta, key=key, email_id=email_id)

    def start_checkout(self, meta: Meta, provider: str, session_id: str, url: str) -> None:
        if self.status not in OPEN_STATUSES:
            raise ConflictError(f"the invoice is {self.status}; nothing to pay")
        self._record(self.CheckoutStarted, meta, provider=provider, session_id=session_id, url=url)


# BillingAccount: a customer's credit and billing block -------------------------------------

class BillingAccount(Aggregate):
    """Per customer: credit balance (overpayments, payments of cancelled invoices), the billing
    block (blocked for overdue invoice N), trust unlocks used per month, and the access-network
    notifications of block/unblock (delivered by an actor; failures stay visible)."""

    class Opened(Aggregate.Created):
        customer_id: str

        def apply(self, acc: "BillingAccount") -> None:
            super().apply(acc)
            acc.credit = Decimal("0.00")
            acc.blocked = False
            acc.block_reason = ""
            acc.block_invoice_id = ""
            acc.trust_months = []
            acc.trust_until = None
            acc.network = {"state": "none", "action": "", "error": "", "attempts": 0}

    class Credited(Aggregate.Event):
        amount: Decimal
        invoice_id: str
        reason: str

        def apply(self, acc: "BillingAccount") -> None:
            acc.credit += Decimal(self.amount)

    class Debited(Aggregate.Event):
        amount: Decimal
        invoice_id: str

        def apply(self, acc: "BillingAccount") -> None:
            acc.credit -= Decimal(self.amount)

    class Blocked(Aggregate.Event):
        reason: str
        invoice_id: str

        def apply(self, acc: "BillingAccount") -> None:
            acc.blocked = True
            acc.block_reason = self.reason
            acc.block_invoice_id = self.invoice_id
            acc.trust_until = None
            acc.network = {"state": "pending", "action": "block", "error": "", "attempts": 0}

    class Unblocked(Aggregate.Event):
        reason: str

        def apply(self, acc: "BillingAccount") -> None:
            acc.blocked = False
            acc.block_reason = ""
            acc.block_invoice_id = ""
            acc.trust_until = None
            acc.network = {"state": "pending", "action": "unblock", "error": "", "attempts": 0}

    class TrustUnlocked(Aggregate.Event):
        month: str
        until: datetime

        def apply(self, acc: "BillingAccount") -> None:
            acc.blocked = False
            acc.trust_months = [*acc.trust_months, self.month]
            acc.trust_until = self.until
            acc.network = {"state": "pending", "action": "unblock", "error": "", "attempts": 0}

    class NetworkNotified(Aggregate.Event):
        action: str
        attempts: int

        def apply(self, acc: "BillingAccount") -> None:
            acc.network = {"state": "sent", "action": self.action, "error": "", "attempts": self.attempts}

    class NetworkFailed(Aggregate.Event):
        action: str
        error: str
        attempts: int

        def apply(self, acc: "BillingAccount") -> None:
            acc.network = {"state": "failed", "action": self.action, "error": self.error,
                           "attempts": self.attempts}

    class NetworkRetryRequested(Aggregate.Event):
        action: str

        def apply(self, acc: "BillingAccount") -> None:
            acc.network = {"state": "pending", "action": self.action, "error": "", "attempts": 0}

    @classmethod
    def open(cls, meta: Meta, customer_id: str) -> "BillingAccount":
        return cls._open(cls.Opened, meta, id=account_id(meta.tenant_id, customer_id),
                         customer_id=str(customer_id))

    def credit_with(self, meta: Meta, amount: Decimal, invoice_id: str, reason: str) -> None:
        if amount > 0:
            self._record(self.Credited, meta, amount=m.cents(amount), invoice_id=invoice_id, reason=reason)

    def debit(self, meta: Meta, amount: Decimal, invoice_id: str) -> None:
        if amount > self.credit:
            raise ConflictError("not enough credit")
        if amount > 0:
            self._record(self.Debited, meta, amount=m.cents(amount), invoice_id=invoice_id)

    def block(self, meta: Meta, reason: str, invoice_id: str) -> bool:
        if self.blocked:
            return False
        self._record(self.Blocked, meta, reason=reason, invoice_id=invoice_id)
        return True

    def unblock(self, meta: Meta, reason: str) -> bool:
        if not self.blocked and self.trust_until is None:
            return False
        self._record(self.Unblocked, meta, reason=reason)
        return True

    def trust_unlock(self, meta: Meta, until: datetime, month: str) -> None:
        """Unblocks until `until` (48 h), once per calendar `month` (YYYY-MM, São Paulo)."""
        if not self.blocked:
            raise ConflictError("the customer is not blocked for an overdue invoice")
        if month in self.trust_months:
            raise ConflictError("the trust unlock was already used this month")
        self._record(self.TrustUnlocked, meta, month=month, until=until)

    def network_sent(self, meta: Meta, action: str, attempts: int) -> bool:
        if self.network.get("state") == "sent" and self.network.get("action") == action:
            return False
        self._record(self.NetworkNotified, meta, action=action, attempts=attempts)
        return True

    def network_failed(self, meta: Meta, action: str, error: str, attempts: int) -> bool:
        if self.network.get("state") != "pending" or self.network.get("action") != action:
            return False
        self._record(self.NetworkFailed, meta, action=action, error=error[:500], attempts=attempts)
        return True

    def retry_network(self, meta: Meta) -> None:
        if self.network.get("state") != "failed":
            raise ConflictError("only a failed access-network delivery can be retried")
        self._record(self.NetworkRetryRequested, meta, action=self.network["action"])


# BillingSettings -----------------------------------------------------------------------------

SECRET_SETTINGS = ("stripe_secret_key", "stripe_webhook_secret", "mercadopago_access_token",
                   "mercadopago_webhook_secret", "access_network_secret")
DEFAULT_SETTINGS: dict[str, Any] = {
    "fine_percent": "2", "interest_percent_month": "1", "reminder_days": [-3, 0, 1, 5, 10],
    "block_after_days": 10, "lead_days": 10, "pix_key": "", "merchant_name": "", "merchant_city": "",
    "boleto_bank": "", "boleto_agency": "", "boleto_account": "", "boleto_wallet": "",
    "boleto_agreement": "", "access_network_url": "", "nfse_on_paid": False,
    **{k: "" for k in SECRET_SETTINGS},
}


def clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in DEFAULT_SETTINGS:
            errors[key] = "unknown setting"
            continue
        try:
            if key in ("fine_percent", "interest_percent_month"):
                pct = m.parse_amount(value, key, allow_zero=True)
                if pct > 20:
                    raise ValidationError(key, "at most 20 %")
                out[key] = str(pct)
            elif key in ("block_after_days", "lead_days"):
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
                    raise ValidationError(key, f"{key} must be an integer from 0 to 120")
                out[key] = value
            elif key == "reminder_days":
                if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                          and -30 <= d <= 60 for d in value):
                    raise ValidationError(key, "reminder_days must be a list of integers from -30 to 60")
                out[key] = sorted(set(value))
            elif key == "nfse_on_paid":
                if not isinstance(value, bool):
                    raise ValidationError(key, "must be true or false")
                out[key] = value
            elif key == "merchant_name":
                out[key] = _text(value, key, 25, required=False)
            elif key == "merchant_city":
                out[key] = _text(value, key, 15, required=False)
            elif key == "pix_key":
                out[key] = _text(value, key, 77, required=False)
            elif key == "boleto_bank":
                text = _text(value, key, 3, required=False)
                if text and not (text.isdigit() and len(text) == 3):
                    raise ValidationError(key, "bank code has 3 digits")
                out[key] = text
            elif key == "access_network_url":
                text = _text(value, key, 300, required=False)
                if text and not text.startswith(("http://", "https://")):
                    raise ValidationError(key, "must be an http(s) URL")
                out[key] = text
            else:
                out[key] = str(value or "").strip()[:300]
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return out


class BillingSettings(Aggregate):
    """A tenant's billing options. Secrets live only in events (encrypted by the store)."""

    class Configured(Aggregate.Created):
        values: dict[str, Any]

        def apply(self, s: "BillingSettings") -> None:
            s.tenant_id = self.tenant_id
            s.values = {**DEFAULT_SETTINGS, **self.values}

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, s: "BillingSettings") -> None:
            s.values = {**s.values, **self.changes}

    @classmethod
    def configure(cls, meta: Meta, **values: Any) -> "BillingSettings":
        return cls._open(cls.Configured, meta, id=settings_id(meta.tenant_id), values=clean_settings(values))

    def change(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        cleaned = clean_settings(changes)
        diff = {k: v for k, v in cleaned.items() if self.values.get(k) != v}
        if diff:
            self._record(self.Changed, meta, changes=diff)
        return diff

    @property
    def terms(self) -> m.LateTerms:
        return m.LateTerms(Decimal(self.values["fine_percent"]), Decimal(self.values["interest_percent_month"]))

    def public_values(self) -> dict[str, Any]:
        """Every setting, secrets replaced by whether they are set."""
        return {k: (bool(v) if k in SECRET_SETTINGS else v) for k, v in self.values.items()}


# GatewayEvent ---------------------------------------------------------------------------

def gateway_event_id(provider: str, event_id: str) -> UUID:
    return uuid.uuid5(_NS, f"gateway-event\x1f{provider}\x1f{event_id}")


class GatewayEvent(Aggregate):
    """One accepted (verified) webhook delivery, with its raw body. Its id derives from the
    provider's event id, so a second delivery of the same event cannot be recorded again."""

    class Accepted(Aggregate.Created):
        provider: str
        event_id: str
        raw_body: str
        invoice_id: str
        outcome: str

    @classmethod
    def accept(cls, meta: Meta, *, provider: str, event_id: str, raw_body: str, invoice_id: str,
               outcome: str) -> "GatewayEvent":
        return cls._open(cls.Accepted, meta, id=gateway_event_id(provider, event_id), provider=provider,
                         event_id=str(event_id)[:200], raw_body=raw_body[:100_000],
                         invoice_id=str(invoice_id), outcome=outcome)


# BillingRun ---------------------------------------------------------------------------------

class BillingRun(Aggregate):
    """One run (generation, reminders, overdue, blocking) for a date, with its counts."""

    class Finished(Aggregate.Created):
        run_date: date
        trigger: str
        results: dict[str, Any]

    @classmethod
    def finish(cls, meta: Meta, run_date: date, trigger: str, results: dict[str, Any]) -> "BillingRun":
        return cls._open(cls.Finished, meta, id=uuid.uuid4(), run_date=run_date, trigger=trigger,
                         results=results)
