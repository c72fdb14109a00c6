"""BillingAccount: a customer's credit, blocking for overdue invoices and access-network delivery."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import retaguarda.billing.money as m
from retaguarda.billing.domain.common import account_id
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta


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
