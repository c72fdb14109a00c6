"""The Billing service's state and the loaders every group of use cases shares."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

from retaguarda.billing.application.common import DefaultSettings
from retaguarda.billing.domain import (
    BillingAccount,
    BillingSettings,
    Invoice,
    Plan,
    account_id,
    settings_id,
)
from retaguarda.customers import Customer
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.meta import Meta


class BillingBase(Service):
    """Store, clock, charge builder and secret; settings and aggregate loaders."""

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

    def get_invoice(self, tenant_id: str | None, invoice_id: str) -> Invoice:
        return self.load(Invoice, invoice_id, tenant_id)

    def find_account(self, account_uuid: str) -> BillingAccount | None:
        try:
            return self.find(BillingAccount, UUID(str(account_uuid)))
        except ValueError:
            return None

    def get_account(self, tenant_id: str, customer_id: str) -> BillingAccount | None:
        """The customer's account (None before its first bill); NotFoundError when the customer is
        not one of this tenant's (another tenant's id must not answer like a real one)."""
        self.load(Customer, customer_id, tenant_id)
        return self.find(BillingAccount, account_id(tenant_id, customer_id))

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
        if customer is None or customer.tenant_id != meta.tenant_id or customer.status != "blocked" or not customer.status_reason.startswith(
                ("overdue invoice", "trust unlock")):
            return None
        customer.unblock(meta, reason or "overdue invoice paid")
        return customer

    def _plan(self, tenant_id: str, plan_id: str) -> Plan:
        try:
            return self.load(Plan, plan_id, tenant_id)
        except NotFoundError:
            raise ValidationError("plan_id", "no such plan") from None
