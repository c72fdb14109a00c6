"""NFS-e backends: the port (`base`) and its adapters (sandbox, portal_nacional, focus_nfe, tecnospeed)."""

from retaguarda.fiscal.backends.base import (
    BACKENDS,
    CANCEL_REASONS,
    ENVIRONMENTS,
    SPECIAL_REGIMES,
    TAX_REGIMES,
    BackendConfigError,
    CallRecord,
    CancellationOutcome,
    DpsRequest,
    EmissionOutcome,
    FiscalBackend,
    IbsCbs,
    Issuer,
    Party,
    TransientBackendError,
)
from retaguarda.fiscal.backends.select import make_backend

__all__ = (
    "BACKENDS", "CANCEL_REASONS", "ENVIRONMENTS", "SPECIAL_REGIMES", "TAX_REGIMES",
    "BackendConfigError", "CallRecord", "CancellationOutcome", "DpsRequest", "EmissionOutcome",
    "FiscalBackend", "IbsCbs", "Issuer", "Party", "TransientBackendError", "make_backend",
)
