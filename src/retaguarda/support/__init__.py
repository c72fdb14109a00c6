"""Support context: tickets with SLA in business hours, comments, attachments, performance."""

from retaguarda.support.application import Actor, Support
from retaguarda.support.domain import SupportSettings, Ticket

__all__ = ["Actor", "Support", "SupportSettings", "Ticket"]
