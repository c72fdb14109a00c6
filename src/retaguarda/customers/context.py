"""The customers context: the register every other context points to."""

from __future__ import annotations

from projections.base import Projection
from retaguarda.customers import api, pages
from retaguarda.customers.install import install
from retaguarda.plugin import Context


def projections() -> list[Projection]:
    from projections.customers.customer_list import CustomerList

    return [CustomerList()]


CONTEXT = Context(name="customers", install=install, routes=api.routes, pages=pages.pages,
                  projections=projections)
