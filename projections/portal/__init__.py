"""Read models of the portal context: plan-change requests and offered plans, RADIUS sessions."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.portal.connections import Connections
    from projections.portal.plan_changes import PlanChanges

    return [PlanChanges(), Connections()]
