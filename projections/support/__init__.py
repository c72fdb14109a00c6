"""Read models of the support context: the ticket queue and technician performance."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.support.technician_performance import TechnicianPerformance
    from projections.support.ticket_queue import TicketQueue

    return [TicketQueue(), TechnicianPerformance()]
