"""Read models of the reports context: `kpi_monthly` and the per-entity tables it keeps."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.reports.kpi import KpiMonthly
    from projections.reports.schedules import Schedules

    return [KpiMonthly(), Schedules()]
