"""Billing use cases for invoices and payments: create, issue, cancel, pay, refund, checkout, gateway events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import IntegrityError

import retaguarda.billing.money as m
from retaguarda.billing.application.base import BillingBase
from retaguarda.billing.application.common import INVOICE_SEQUENCE, PAYMENT_SCOPE, local_date
from retaguarda.billing.domain import (
    BillingAccount,
    GatewayEvent,
    Invoice,
    gateway_event_id,
)
from retaguarda.services import Saved
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number


class InvoiceCommands(BillingBase):
    """Invoices, payments, refunds and gateway events."""

    # Invoices ------------------------------------------------------------------------------
    def create_invoice(self, meta: Meta, *, customer_id: str, due_date: Any, items: Any,
                       discount: Any = "0", invoice_id: uuid.UUID | None = None) -> Saved:
        """A draft invoice with the next gap-free number of the tenant. With `invoice_id` (a caller's
        deterministic id) it is created at most once: when it exists, that invoice is returned
        and nothing is saved (`Saved.position` 0)."""
        self._customer(meta.tenant_id, customer_id)

        def command() -> Saved:
            if invoice_id is not None:
                found = self.find(Invoice, invoice_id)
                if found is not None:
                    if found.tenant_id != meta.tenant_id:
                        raise ConflictError("invoice id already used")
                    return Saved(found, 0)
            number, seq = next_number(self, INVOICE_SEQUENCE, meta)
            inv = Invoice.create(meta, number=number, customer_id=customer_id, items=items,
                                 due_date=due_date, discount=discount, invoice_id=invoice_id)
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

    def attach_pix_charge(self, meta: Meta, invoice_id: str, *, txid: str, location: str,
                          amount: Decimal) -> Saved:
        """A PSP charge (`cob` of the BCB API Pix, created by the cash context) becomes the
        invoice's PIX: its location-based BR Code (merchant name and city from the settings)
        replaces the static one on the invoice, the pay page and reminders. Idempotent per txid."""
        from retaguarda.billing.pix import build_dynamic_brcode

        v = self.settings_for(meta.tenant_id).values
        try:
            brcode = build_dynamic_brcode(location=location, merchant_name=v.get("merchant_name") or "",
                                          merchant_city=v.get("merchant_city") or "")
        except ValueError as exc:
            raise ValidationError("location", str(exc)) from None

        def command() -> Saved:
            inv = self.load(Invoice, invoice_id, meta.tenant_id)
            changed = inv.attach_pix_charge(meta, txid=txid, location=location, brcode=brcode, amount=amount)
            return Saved(inv, self.save(inv) if changed else 0)

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
