"""Customers context: the register every other context points to."""

from retaguarda.customers.application import Customers
from retaguarda.customers.domain import Customer

__all__ = ["Customer", "Customers"]
