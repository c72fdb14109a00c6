"""CNPJ commands: the watch-list, per-tenant settings, and checks (cache → provider chain → events).

`CnpjService` is the plain load → change → save service. `Checks` runs a lookup: it is handed
the provider chain, the cache and the data-key store by the installer (it never picks adapters),
records the intent (Requested/Queued), calls the port, and records the outcome together with the
target's latest state, the change diff and any alert e-mails, in one save.

Split by use case into modules (service, checks, personal); this package re-exports every
name the single module had. It defines no aggregate, so no stored topic moved."""

from __future__ import annotations

from retaguarda.cnpj.application.checks import Checks
from retaguarda.cnpj.application.personal import (
    mask_personal,
    merge_personal,
)
from retaguarda.cnpj.application.service import (
    CnpjService,
    Outcome,
    QuotaExceededError,
    log,
    month_of,
    month_reset,
    settings_id,
)

__all__ = [
    "Checks",
    "CnpjService",
    "Outcome",
    "QuotaExceededError",
    "log",
    "mask_personal",
    "merge_personal",
    "month_of",
    "month_reset",
    "settings_id",
]
