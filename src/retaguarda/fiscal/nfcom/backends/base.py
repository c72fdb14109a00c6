"""The port every NFCom backend implements and its outcomes.

Error contract (same as the NFS-e port, whose `CallRecord` / errors it reuses):
- the authority answered with a rejection or denial -> outcome with status "rejected"/"denied",
  `cstat` and `reason` verbatim (do not retry);
- timeout, connection error, 5xx, 429, malformed answer -> `TransientBackendError` (retry; after
  an emission timeout the caller consults by key before sending again);
- missing certificate/token or unusable configuration -> `BackendConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from retaguarda.fiscal.backends.base import BackendConfigError, CallRecord, TransientBackendError
from retaguarda.fiscal.nfcom.xml import NfcomRequest

BACKENDS: tuple[str, ...] = ("sandbox", "svrs", "focus_nfe")
ENVIRONMENTS: tuple[str, ...] = ("homologacao", "producao")
AUTHORIZED = ("100", "150")
DENIED = ("301", "302", "303")

__all__ = (
    "AUTHORIZED",
    "BACKENDS",
    "DENIED",
    "ENVIRONMENTS",
    "BackendConfigError",
    "CallRecord",
    "CancelOutcome",
    "EmitOutcome",
    "NfcomBackend",
    "TransientBackendError",
)


@dataclass
class EmitOutcome:
    """status: 'authorized' | 'rejected' | 'denied' | 'processing' | 'unknown' (consult found
    nothing). `xml`: the signed NFCom we sent (when we built it); `proc_xml`: nfcomProc."""

    status: str
    access_key: str = ""
    protocol: str = ""
    cstat: str = ""
    reason: str = ""
    authorized_at: datetime | None = None
    xml: str = ""
    proc_xml: str = ""
    cancelled: bool = False
    calls: list[CallRecord] = field(default_factory=list)


@dataclass
class CancelOutcome:
    """status: 'cancelled' | 'rejected'."""

    status: str
    cstat: str = ""
    reason: str = ""
    protocol: str = ""
    event_xml: str = ""
    calls: list[CallRecord] = field(default_factory=list)


@runtime_checkable
class NfcomBackend(Protocol):
    name: str

    def emit(self, request: NfcomRequest, ref: str) -> EmitOutcome:
        """Build, validate, sign and send one NFCom (synchronous at SVRS)."""
        ...

    def consult(self, access_key: str, ref: str) -> EmitOutcome: ...

    def cancel(
        self, access_key: str, protocol: str, reason: str, at: datetime, ref: str
    ) -> CancelOutcome: ...

    def status(self) -> dict[str, Any]:
        """Service status: {"ok", "cstat", "reason", "calls"}."""
        ...
