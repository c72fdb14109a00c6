"""Audit context: event history, time travel and the tamper-evident seal (read-only)."""

from retaguarda.audit.application import (
    VerifyResult,
    can_read_history,
    history,
    parse_instant,
    parse_version,
    state,
    verify,
)

__all__ = [
    "VerifyResult",
    "can_read_history",
    "history",
    "parse_instant",
    "parse_version",
    "state",
    "verify",
]
