"""Read models of the cash context."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.cash.ledger import CashLedger

    return [CashLedger()]
