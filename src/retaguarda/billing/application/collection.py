"""Billing use cases for collection: overdue marking, reminders, blocking and unblocking, the network, billing runs."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

import retaguarda.billing.money as m
from retaguarda.billing.application.base import BillingBase
from retaguarda.billing.application.common import (
    INVOICE_SEQUENCE,
    PERIOD_SCOPE,
    TRUST_HOURS,
    _advance,
    _Draft,
    _period_key,
    local_date,
)
from retaguarda.billing.domain import (
    BillingAccount,
    BillingRun,
    Invoice,
    account_id,
    plan_items,
)
from retaguarda.customers import Customer
from retaguarda.services import Saved
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import Sequence, sequence_id


class CollectionCommands(BillingBase):
    """Overdue invoices, reminders, blocking, access network and billing runs."""

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
        from retaguarda.notifications import Email

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
            self.load(Customer, customer_id, meta.tenant_id)  # NotFoundError for another tenant's id
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
        fiscal: dict[str, Any] = {}
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
                items = plan_items(description, amount, self._plan_fiscal(meta.tenant_id, c.get("plan_id"), fiscal),
                                   period.factor)
                if c.get("credit"):
                    inv = Invoice.create(
                        meta, number=number, customer_id=c["customer_id"], items=items,
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
                        issue_date=issue_date, pix=pix, boleto=boleto, items=items)
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

    def _plan_fiscal(self, tenant_id: str, plan_id: str | None,
                     cache: dict[str, Any]) -> dict[str, Any] | None:
        """The plan's fiscal class (one load per plan and batch)."""
        if not plan_id:
            return None
        if plan_id not in cache:
            try:
                cache[plan_id] = self._plan(tenant_id, plan_id).fiscal
            except Exception:  # a plan that cannot be read bills as a single line
                cache[plan_id] = None
        result: dict[str, Any] | None = cache[plan_id]
        return result

    def record_run(self, meta: Meta, run_date: date, trigger: str, results: dict[str, Any]) -> Saved:
        run = BillingRun.finish(meta, run_date, trigger, results)
        return Saved(run, self.save(run))
