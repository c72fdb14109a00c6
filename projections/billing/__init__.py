"""Read models of the billing context."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.billing.catalogue import BillingCatalogue
    from projections.billing.invoice_list import InvoiceList

    return [InvoiceList(), BillingCatalogue()]
