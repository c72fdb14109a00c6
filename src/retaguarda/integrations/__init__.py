"""Integrations backbone: dispatcher (event-sourced outbox), actors, reconciler, scheduler."""

from retaguarda.integrations.dispatcher import Trigger
from retaguarda.integrations.errors import IntegrationError, PermanentError, TransientError
from retaguarda.integrations.jobs import JobSpec, current_attempt, job
from retaguarda.integrations.reconciler import Reconciler
from retaguarda.integrations.scheduler import Daily, Every, PeriodicJob

__all__ = [
    "Daily", "Every", "IntegrationError", "JobSpec", "PeriodicJob", "PermanentError", "Reconciler",
    "TransientError", "Trigger", "current_attempt", "job",
]
