"""Errors every port raises, so actors can tell 'try again later' from 'never retry'.

One hierarchy for every outbound adapter (NFS-e backends, CNPJ providers, payment gateways,
campaign providers, the access network):

    IntegrationError
    ├── TransientError ─┐
    ├── PermanentError ─┼─┐
    └── ProviderError   │ │      status / retry_after / provider of the failed call
        ├── TransientProviderError (TransientError)   timeouts, connection errors, 408, 429, 5xx
        └── PermanentProviderError (PermanentError)   any other refusal: never retried
            ├── AuthError                             401/403: credentials missing or refused
            └── NotFoundError                         404: the provider does not know the thing

Each context keeps its own names (`TransientBackendError`, `TransientGatewayError`,
`RateLimited`, …) as subclasses of these, so its call sites keep working while a job wrapper
handles every context the same way: `TransientError` → retry with backoff (honouring
`retry_after`), `PermanentError` → no retry, the aggregate records the failure.
"""

from __future__ import annotations

from typing import Literal

ErrorClass = Literal["transient", "permanent", "auth", "not_found"]


class IntegrationError(Exception):
    """Base of errors raised by ports to external systems."""


class TransientError(IntegrationError):
    """The provider may accept the same call later (timeouts, 4xx SMTP, 5xx HTTP): retried."""


class PermanentError(IntegrationError):
    """The provider will never accept this call as it stands: not retried; the aggregate fails."""


class ProviderError(IntegrationError):
    """A call to an external provider failed.

    `status` (HTTP status or None), `retry_after` (seconds the provider asked us to wait, or
    None) and `provider` (adapter name) default to the class values and are only set on the
    instance when given, so context subclasses that set them before calling `super().__init__`
    keep their values.
    """

    status: int | None = None
    retry_after: float | None = None
    provider: str = ""

    def __init__(self, message: str = "", *, status: int | None = None, retry_after: float | None = None,
                 provider: str | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after
        if provider is not None:
            self.provider = provider


class TransientProviderError(ProviderError, TransientError):
    """Try again later (after `retry_after` seconds when the provider said so)."""


class PermanentProviderError(ProviderError, PermanentError):
    """The provider refuses this call as it stands."""


class AuthError(PermanentProviderError):
    """Credentials missing, wrong or refused (HTTP 401/403, or no certificate/token configured)."""


class NotFoundError(PermanentProviderError):
    """The provider does not know the resource (HTTP 404)."""


def classify_status(status: int) -> ErrorClass:
    """The one rule mapping a non-2xx HTTP status to an error class.

    408, 425, 429 and 5xx are transient; 401 and 403 are auth; 404 and 410 not-found; every other
    4xx is permanent. Adapters whose vendor documents a different meaning (e.g. a provider that
    answers 403 while throttling) override the class for that status explicitly.
    """
    if status in (408, 425, 429) or status >= 500:
        return "transient"
    if status in (401, 403):
        return "auth"
    if status in (404, 410):
        return "not_found"
    return "permanent"


_CLASSES: dict[ErrorClass, type[ProviderError]] = {
    "transient": TransientProviderError,
    "permanent": PermanentProviderError,
    "auth": AuthError,
    "not_found": NotFoundError,
}


def error_for_status(status: int, message: str = "", *, retry_after: float | None = None,
                     provider: str = "") -> ProviderError:
    """A kit error for a non-2xx answer (see `classify_status`)."""
    cls = _CLASSES[classify_status(status)]
    return cls(message or f"{provider or 'provider'} answered HTTP {status}", status=status,
               retry_after=retry_after if cls is TransientProviderError else None, provider=provider)


def error_class_of(exc: BaseException) -> ErrorClass | None:
    """Which branch of the hierarchy `exc` is on (None for errors outside it)."""
    if isinstance(exc, NotFoundError):
        return "not_found"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, PermanentError):
        return "permanent"
    return None
