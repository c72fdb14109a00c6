"""Fiscal aggregates: FiscalSettings, Certificate and Nfse. Pure: no I/O, no clock.

Nfse life cycle (every step an event; the status is derived from them):

    draft ──emit──► requested ──► submitted ──► authorized ──cancel──► cancelling ──► cancelled
      ▲               │  │  └──────────────────────► ▲                   │  │
      │               │  └─► rejected ─correct/emit──┘(new DPS number)   │  └─► cancellation_rejected
      └──correct──────┘  └─► failed (dead letter) ─retry─► requested     └─► cancellation_failed ─retry─►

Split by aggregate into modules (values, settings, certificate, nfse); this package re-exports
every name the single module had, and keeps each aggregate's stored event topics
(`retaguarda.fiscal.domain:Class.Event`), so logs written before the split replay unchanged."""

from __future__ import annotations

from retaguarda.fiscal.domain.certificate import (
    Certificate,
    event_fields,
)
from retaguarda.fiscal.domain.nfse import (
    NOTE_FIELDS,
    Nfse,
    clean_note,
)
from retaguarda.fiscal.domain.settings import (
    ISSUER_FIELDS,
    FiscalSettings,
    clean_settings,
)
from retaguarda.fiscal.domain.values import (
    BACKENDS,
    CANCEL_REASONS,
    CENT,
    CREDENTIAL_KEYS,
    DEAD_LETTER_STATUSES,
    DEFAULT_CBS_RATE,
    DEFAULT_IBS_MUN_RATE,
    DEFAULT_IBS_UF_RATE,
    ENVIRONMENTS,
    EXPIRY_THRESHOLDS,
    SPECIAL_REGIMES,
    STATUSES,
    TAX_REGIMES,
    cents,
    certificate_id,
    clean_competence,
    clean_service,
    clean_tomador,
    compute_taxes,
    money,
    rate,
    settings_id,
)
from retaguarda.shared.topics import keep_topics

keep_topics("retaguarda.fiscal.domain", FiscalSettings, Certificate, Nfse)

__all__ = [
    "BACKENDS",
    "CANCEL_REASONS",
    "CENT",
    "CREDENTIAL_KEYS",
    "DEAD_LETTER_STATUSES",
    "DEFAULT_CBS_RATE",
    "DEFAULT_IBS_MUN_RATE",
    "DEFAULT_IBS_UF_RATE",
    "ENVIRONMENTS",
    "EXPIRY_THRESHOLDS",
    "ISSUER_FIELDS",
    "NOTE_FIELDS",
    "SPECIAL_REGIMES",
    "STATUSES",
    "TAX_REGIMES",
    "Certificate",
    "FiscalSettings",
    "Nfse",
    "cents",
    "certificate_id",
    "clean_competence",
    "clean_note",
    "clean_service",
    "clean_settings",
    "clean_tomador",
    "compute_taxes",
    "event_fields",
    "money",
    "rate",
    "settings_id",
]
