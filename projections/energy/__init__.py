"""Read models of the energy context: accounts, consumer units (with beneficiaries), bills."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.energy.portfolio import EnergyPortfolio

    return [EnergyPortfolio()]
