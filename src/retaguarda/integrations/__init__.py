"""Integrations backbone: dispatcher (event-sourced outbox), actors, reconciler, scheduler."""

from retaguarda.integrations.dispatcher import register_trigger
from retaguarda.integrations.errors import IntegrationError, PermanentError, TransientError
from retaguarda.integrations.jobs import current_attempt, job
from retaguarda.integrations.reconciler import register_reconciler
from retaguarda.integrations.scheduler import Daily, Every, register_periodic

__all__ = [
    "Daily", "Every", "IntegrationError", "PermanentError", "TransientError", "current_attempt", "job",
    "register_periodic", "register_reconciler", "register_trigger",
]
