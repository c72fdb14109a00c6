"""Read models of the field context: service orders (list, agenda, board), productivity, materials."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.field.orders import ServiceOrders

    return [ServiceOrders()]
