"""Portal context: the customer's self-service (invoices, tickets, plan change, own data,
connection history from RADIUS accounting). Public surface: its aggregates and the service."""

from __future__ import annotations

from retaguarda.portal.application import Portal
from retaguarda.portal.domain import ConnectionDay, PlanChangeRequest, RadiusSource

__all__ = ["ConnectionDay", "PlanChangeRequest", "Portal", "RadiusSource"]
