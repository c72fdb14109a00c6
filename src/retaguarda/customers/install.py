"""Installs the customers context: its service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retaguarda.customers.application import Customers

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def install(container: Container) -> None:
    container.customers = Customers(container.store, container.after_write)
