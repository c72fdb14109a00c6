"""Read models of the contracts context: the contract list (filters, ending soon) and templates."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.contracts.contract_list import ContractList

    return [ContractList()]
