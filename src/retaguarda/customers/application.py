"""Customer commands: load → aggregate → save, with the per-tenant unique document claim."""

from __future__ import annotations

import uuid
from typing import Any

from retaguarda.customers.domain import Customer
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta


def _document_scope(tenant_id: str) -> str:
    return f"customer-document:{tenant_id}"


class Customers(Service):
    """Registers and edits customers; refuses a document already used in the tenant."""

    def register_customer(self, meta: Meta, **fields: Any) -> Saved:
        def command() -> Saved:
            customer = Customer.register(uuid.uuid4(), meta, **fields)
            claim = self._claim_document(customer, meta)
            return Saved(customer, self.save(customer, claim))

        return self.retrying(command)

    def update_customer(self, meta: Meta, customer_id: str, **changes: Any) -> Saved:
        def command() -> Saved:
            customer = self.load(Customer, customer_id, meta.tenant_id)
            old_document = customer.document
            diff = customer.update(meta, **changes)
            claims = []
            if "document" in diff:
                claims.append(self._claim_document(customer, meta))
                claims.append(self.release(_document_scope(meta.tenant_id), old_document,
                                           str(customer.id), meta))
            return Saved(customer, self.save(customer, *claims) if diff else 0)

        return self.retrying(command)

    def block_customer(self, meta: Meta, customer_id: str, reason: str) -> Saved:
        return self._transition(meta, customer_id, lambda c: c.block(meta, reason))

    def unblock_customer(self, meta: Meta, customer_id: str, reason: str) -> Saved:
        return self._transition(meta, customer_id, lambda c: c.unblock(meta, reason))

    def deactivate_customer(self, meta: Meta, customer_id: str, reason: str) -> Saved:
        return self._transition(meta, customer_id, lambda c: c.deactivate(meta, reason))

    def reactivate_customer(self, meta: Meta, customer_id: str, reason: str) -> Saved:
        return self._transition(meta, customer_id, lambda c: c.reactivate(meta, reason))

    def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        return self.load(Customer, customer_id, tenant_id)

    def _transition(self, meta: Meta, customer_id: str, change: Any) -> Saved:
        def command() -> Saved:
            customer = self.load(Customer, customer_id, meta.tenant_id)
            change(customer)
            return Saved(customer, self.save(customer))

        return self.retrying(command)

    def _claim_document(self, customer: Customer, meta: Meta) -> Any:
        try:
            return self.claim(_document_scope(meta.tenant_id), customer.document, str(customer.id), meta)
        except ConflictError:
            raise ConflictError("another customer of this tenant already has this document",
                                field="document") from None
