"""Invoice: items, sequential number, issue, payments, fines and interest, cancellation."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import retaguarda.billing.money as m
from retaguarda.billing.domain.common import ITEM_KINDS, METHODS, OPEN_STATUSES, _text
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta


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
        line = {"description": description, "quantity": str(quantity), "unit_price": str(unit_price),
                "kind": kind, "amount": str(m.line_amount(quantity, unit_price))}
        try:
            line.update(_item_fiscal(raw, i))
        except ValidationError as exc:
            errors.update(exc.errors)
            continue
        out.append(line)
    if errors:
        raise ValidationError.many(errors)
    return out


def _item_fiscal(raw: dict[str, Any], i: int) -> dict[str, str]:
    """An item's optional fiscal class for the fiscal context: `fiscal_class` scm (NFCom, with its
    7-digit `cclass`) or sva (NFS-e, with its `service_code`)."""
    out: dict[str, str] = {}
    cls = str(raw.get("fiscal_class") or "").lower()
    if cls:
        if cls not in ("scm", "sva"):
            raise ValidationError(f"items[{i}].fiscal_class", "fiscal_class must be scm or sva")
        out["fiscal_class"] = cls
    cclass = str(raw.get("cclass") or "").strip()
    if cclass:
        if not (len(cclass) == 7 and cclass.isdigit()):
            raise ValidationError(f"items[{i}].cclass", "cclass must have 7 digits")
        out["cclass"] = cclass
    code = str(raw.get("service_code") or "").strip()
    if code:
        if len(code) > 20:
            raise ValidationError(f"items[{i}].service_code", "service_code must have at most 20 characters")
        out["service_code"] = code
    return out


class Invoice(Aggregate):
    """A numbered invoice with items, payments, late charges, credit applied and refunds.

    Money state (all Decimal, cents): total, credit_applied, principal_paid, fines_paid,
    interest_paid, refunded. balance = total - credit_applied - principal_paid.
    """

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        customer_id: str
        issue_date: date
        items: list[dict[str, Any]]
        number: int
        status: str
        total: Decimal

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

    class PixChargeAttached(Aggregate.Event):
        """A PSP charge (`cob`) for the invoice: its BR Code replaces the static one (kept as
        `static_brcode` for an amount the charge does not carry, e.g. with late charges)."""
        pix: dict[str, Any]

        def apply(self, inv: "Invoice") -> None:
            inv.pix = self.pix

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
                 issue_date: date, pix: dict[str, Any] | None, boleto: dict[str, Any] | None,
                 items: list[dict[str, Any]] | None = None) -> "Invoice":
        """The issued invoice of one subscription period (the plan's line — or its SCM and SVA lines,
        `plan_items` — no credit applied)."""
        amount = m.cents(amount)
        items = items or [{"description": description[:200], "quantity": "1", "unit_price": str(amount),
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

    def attach_pix_charge(self, meta: Meta, *, txid: str, location: str, brcode: str, amount: Decimal) -> bool:
        """Shows the PSP charge's QR instead of the static one. False when it is already shown."""
        if self.status not in OPEN_STATUSES:
            raise ConflictError(f"only an open invoice takes a PIX charge (it is {self.status})")
        current = dict(self.pix or {})
        if current.get("dynamic") and current.get("txid") == txid:
            return False
        static = current.get("static_brcode") or (current.get("brcode") if not current.get("dynamic") else "")
        self._record(self.PixChargeAttached, meta, pix={
            "brcode": brcode, "txid": txid, "location": location, "amount": f"{m.cents(amount):.2f}",
            "dynamic": True, "static_brcode": static or "",
        })
        return True

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
