"""Errors every port raises, so actors can tell 'try again later' from 'never retry'."""

from __future__ import annotations


class IntegrationError(Exception):
    """Base of errors raised by ports to external systems."""


class TransientError(IntegrationError):
    """The provider may accept the same call later (timeouts, 4xx SMTP, 5xx HTTP): retried."""


class PermanentError(IntegrationError):
    """The provider will never accept this call as it stands: not retried; the aggregate fails."""
