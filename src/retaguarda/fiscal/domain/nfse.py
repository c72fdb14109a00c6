"""Nfse: one service invoice from draft to authorization and cancellation (every step an event)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from retaguarda.fiscal.domain.values import (
    _IBGE_RE,
    CANCEL_REASONS,
    _reason,
    clean_competence,
    clean_service,
    clean_tomador,
    compute_taxes,
    money,
    rate,
)
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

NOTE_FIELDS = ("customer_id", "tomador", "service", "amount", "deductions", "competence", "iss_rate",
               "iss_withheld", "municipality_ibge", "taxes")


def clean_note(data: dict[str, Any], rates: dict[str, Decimal]) -> dict[str, Any]:
    """Validates a draft (every field at once) and computes its tax preview."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["tomador"] = clean_tomador(data.get("tomador") or {})
    except ValidationError as exc:
        errors.update(exc.errors)
    out["customer_id"] = str(data.get("customer_id") or "")
    try:
        out["service"] = clean_service(data.get("service"))
    except ValidationError as exc:
        errors.update(exc.errors)
    for key, allow_zero in (("amount", False), ("deductions", True)):
        try:
            out[key] = money(data.get(key, "0"), key, allow_zero=allow_zero)
        except ValidationError as exc:
            errors.update(exc.errors)
    if "amount" in out and "deductions" in out and out["deductions"] > out["amount"]:
        errors["deductions"] = "deductions cannot exceed the amount"
    try:
        out["competence"] = clean_competence(data.get("competence"))
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        out["iss_rate"] = rate(data.get("iss_rate", "0"), "iss_rate", maximum=Decimal("5"))
    except ValidationError as exc:
        errors.update(exc.errors)
    withheld = data.get("iss_withheld", False)
    if not isinstance(withheld, bool):
        errors["iss_withheld"] = "iss_withheld must be true or false"
    out["iss_withheld"] = bool(withheld)
    ibge = str(data.get("municipality_ibge") or "")
    if not _IBGE_RE.match(ibge):
        errors["municipality_ibge"] = "place of service must be a 7-digit IBGE code"
    out["municipality_ibge"] = ibge
    if errors:
        raise ValidationError.many(errors)
    out["taxes"] = compute_taxes(out["amount"], out["deductions"], out["iss_rate"], out["iss_withheld"],
                                 rates["cbs_rate"], rates["ibs_uf_rate"], rates["ibs_mun_rate"])
    return out


class Nfse(Aggregate):
    """One service invoice (NFS-e) from draft to authorized/cancelled.

    State: the NOTE_FIELDS, status, series, dps_number, backend, environment, issuer,
    issued_at, access_key, number, authorized_at, provider_ref, errors, nfse_xml, dps_xml,
    dps_id, danfse_url, attempts, last_error, cancel_reason_code, cancel_reason, cancel_errors,
    cancel_event_xml, cancelled_at, requested_at, emission_round.
    """

    class Drafted(Aggregate.Created):
        customer_id: str
        tomador: dict[str, Any]
        service: dict[str, str]
        amount: Decimal
        deductions: Decimal
        competence: date
        iss_rate: Decimal
        iss_withheld: bool
        municipality_ibge: str
        taxes: dict[str, Decimal]

        def apply(self, n: "Nfse") -> None:
            super().apply(n)
            n.status = "draft"
            n.correlation_id = self.correlation_id
            for key in ("series", "backend", "environment", "issuer", "issued_at", "access_key",
                        "number", "authorized_at", "provider_ref", "nfse_xml", "dps_xml", "dps_id",
                        "danfse_url", "last_error", "cancel_reason_code", "cancel_reason",
                        "cancel_event_xml", "cancelled_at", "requested_at", "dps_number"):
                setattr(n, key, None)
            n.errors = []
            n.cancel_errors = []
            n.attempts = 0
            n.emission_round = 0

    class Corrected(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, n: "Nfse") -> None:
            for key, value in self.changes.items():
                setattr(n, key, value)

    class EmissionRequested(Aggregate.Event):
        series: str
        dps_number: int
        backend: str
        environment: str
        issuer: dict[str, Any]
        issued_at: datetime

        def apply(self, n: "Nfse") -> None:
            n.status = "requested"
            n.correlation_id = self.correlation_id
            n.series, n.dps_number = self.series, self.dps_number
            n.backend, n.environment, n.issuer = self.backend, self.environment, self.issuer
            n.issued_at = self.issued_at
            n.requested_at = self.timestamp
            n.errors, n.last_error, n.attempts = [], None, 0
            n.emission_round += 1
            n.provider_ref = None

    class AttemptFailed(Aggregate.Event):
        """A transient fault (timeout, 5xx, 429…): will be retried. The calls are the audit log."""

        operation: str
        attempt: int
        error: str
        retry_in_ms: int
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.attempts = self.attempt
            n.last_error = self.error

    class CallsRecorded(Aggregate.Event):
        """Provider calls that changed nothing (a consult answering 'processing', a DANFSe fetch)."""

        operation: str
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            pass

    class SubmittedToGateway(Aggregate.Event):
        provider_ref: str
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.status = "submitted"
            n.provider_ref = self.provider_ref

    class Authorized(Aggregate.Event):
        access_key: str
        number: str
        authorized_at: datetime
        nfse_xml: str
        dps_xml: str
        dps_id: str
        provider_ref: str
        danfse_url: str
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.status = "authorized"
            for key in ("access_key", "number", "authorized_at", "nfse_xml", "dps_xml", "dps_id",
                        "danfse_url"):
                setattr(n, key, getattr(self, key) or None)
            n.provider_ref = self.provider_ref or n.provider_ref
            n.errors, n.last_error = [], None

    class Rejected(Aggregate.Event):
        errors: list[dict[str, str]]
        dps_xml: str
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.status = "rejected"
            n.errors = list(self.errors)
            n.dps_xml = self.dps_xml or n.dps_xml

    class EmissionFailed(Aggregate.Event):
        """Dead letter: the last retry of a transient fault failed (or the backend is misconfigured)."""

        error: str
        attempts: int

        def apply(self, n: "Nfse") -> None:
            n.status = "failed"
            n.last_error = self.error
            n.attempts = self.attempts

    class EmissionRetryRequested(Aggregate.Event):
        def apply(self, n: "Nfse") -> None:
            n.status = "submitted" if n.provider_ref else "requested"
            n.last_error, n.attempts = None, 0

    class CancellationRequested(Aggregate.Event):
        reason_code: str
        reason: str

        def apply(self, n: "Nfse") -> None:
            n.status = "cancelling"
            n.correlation_id = self.correlation_id
            n.cancel_reason_code, n.cancel_reason = self.reason_code, self.reason
            n.cancel_errors, n.last_error, n.attempts = [], None, 0

    class Cancelled(Aggregate.Event):
        event_xml: str
        cancelled_at: datetime
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.status = "cancelled"
            n.cancel_event_xml = self.event_xml or None
            n.cancelled_at = self.cancelled_at

    class CancellationRejected(Aggregate.Event):
        errors: list[dict[str, str]]
        calls: list[dict[str, Any]]

        def apply(self, n: "Nfse") -> None:
            n.status = "cancellation_rejected"
            n.cancel_errors = list(self.errors)

    class CancellationFailed(Aggregate.Event):
        error: str
        attempts: int

        def apply(self, n: "Nfse") -> None:
            n.status = "cancellation_failed"
            n.last_error = self.error
            n.attempts = self.attempts

    class CancellationRetryRequested(Aggregate.Event):
        def apply(self, n: "Nfse") -> None:
            n.status = "cancelling"
            n.last_error, n.attempts = None, 0

    # Commands ---------------------------------------------------------------------------

    @classmethod
    def draft(cls, note_id: UUID, meta: Meta, data: dict[str, Any],
              rates: dict[str, Decimal]) -> "Nfse":
        return cls._open(cls.Drafted, meta, id=note_id, **clean_note(data, rates))

    def correct(self, meta: Meta, data: dict[str, Any], rates: dict[str, Decimal]) -> dict[str, Any]:
        if self.status not in ("draft", "rejected"):
            raise ConflictError(f"only a draft or a rejected note can be corrected (it is {self.status})")
        merged = {k: getattr(self, k) for k in NOTE_FIELDS if k != "taxes"}
        merged.update({k: v for k, v in data.items() if k in NOTE_FIELDS})
        fields = clean_note(merged, rates)
        diff = {k: v for k, v in fields.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Corrected, meta, changes=diff)
        return diff

    def request_emission(self, meta: Meta, *, series: str, dps_number: int, backend: str,
                         environment: str, issuer: dict[str, Any]) -> None:
        if self.status not in ("draft", "rejected"):
            raise ConflictError(f"only a draft or a rejected note can be sent (it is {self.status})")
        self._record(self.EmissionRequested, meta, series=series, dps_number=dps_number,
                     backend=backend, environment=environment, issuer=dict(issuer), issued_at=meta.at)

    @property
    def in_flight(self) -> bool:
        return self.status in ("requested", "submitted")

    def attempt_failed(self, meta: Meta, *, operation: str, attempt: int, error: str,
                       retry_in_ms: int, calls: list[dict[str, Any]]) -> None:
        self._record(self.AttemptFailed, meta, operation=operation, attempt=attempt, error=error,
                     retry_in_ms=retry_in_ms, calls=calls)

    def record_calls(self, meta: Meta, operation: str, calls: list[dict[str, Any]]) -> None:
        if calls:
            self._record(self.CallsRecorded, meta, operation=operation, calls=calls)

    def submitted(self, meta: Meta, *, provider_ref: str, calls: list[dict[str, Any]]) -> bool:
        if self.status != "requested":
            return False
        self._record(self.SubmittedToGateway, meta, provider_ref=provider_ref, calls=calls)
        return True

    def authorize(self, meta: Meta, *, access_key: str, number: str, authorized_at: datetime,
                  nfse_xml: str, dps_xml: str, dps_id: str, provider_ref: str, danfse_url: str,
                  calls: list[dict[str, Any]]) -> bool:
        """False (nothing recorded) when the outcome is no longer news (duplicate webhook/poll)."""
        if not self.in_flight and self.status != "failed":
            return False
        requested_at = getattr(self, "requested_at", None)
        if (isinstance(requested_at, datetime) and authorized_at.tzinfo is not None
                and timedelta(0) < requested_at - authorized_at < timedelta(seconds=1)):
            # The authority's dhProc has whole seconds: an answer in the second of our request
            # reads as just before it; the instant lies in that second, at or after the request.
            authorized_at = requested_at
        self._record(self.Authorized, meta, access_key=access_key, number=number,
                     authorized_at=authorized_at, nfse_xml=nfse_xml, dps_xml=dps_xml, dps_id=dps_id,
                     provider_ref=provider_ref, danfse_url=danfse_url, calls=calls)
        return True

    def reject(self, meta: Meta, *, errors: list[dict[str, str]], dps_xml: str,
               calls: list[dict[str, Any]]) -> bool:
        if not self.in_flight and self.status != "failed":
            return False
        self._record(self.Rejected, meta, errors=[{str(k): str(v) for k, v in e.items()} for e in errors],
                     dps_xml=dps_xml, calls=calls)
        return True

    def fail_emission(self, meta: Meta, *, error: str, attempts: int) -> bool:
        if not self.in_flight:
            return False
        self._record(self.EmissionFailed, meta, error=error, attempts=attempts)
        return True

    def retry(self, meta: Meta) -> str:
        """From the dead-letter list: emission or cancellation is tried again."""
        if self.status == "failed":
            self._record(self.EmissionRetryRequested, meta)
            return "emission"
        if self.status == "cancellation_failed":
            self._record(self.CancellationRetryRequested, meta)
            return "cancellation"
        raise ConflictError(f"only a failed note can be retried (it is {self.status})")

    def request_cancellation(self, meta: Meta, reason_code: Any, reason: Any) -> None:
        if self.status not in ("authorized", "cancellation_rejected"):
            raise ConflictError(f"only an authorized note can be cancelled (it is {self.status})")
        code = str(reason_code or "").strip()
        if code not in CANCEL_REASONS:
            raise ValidationError("reason_code", "reason code must be 1 (erro na emissão), "
                                                 "2 (serviço não prestado) or 9 (outros)")
        self._record(self.CancellationRequested, meta, reason_code=code, reason=_reason(reason))

    def cancelled(self, meta: Meta, *, event_xml: str, calls: list[dict[str, Any]]) -> bool:
        if self.status not in ("cancelling", "cancellation_failed"):
            return False
        self._record(self.Cancelled, meta, event_xml=event_xml, cancelled_at=meta.at, calls=calls)
        return True

    def cancellation_rejected(self, meta: Meta, *, errors: list[dict[str, str]],
                              calls: list[dict[str, Any]]) -> bool:
        if self.status != "cancelling":
            return False
        self._record(self.CancellationRejected, meta,
                     errors=[{str(k): str(v) for k, v in e.items()} for e in errors], calls=calls)
        return True

    def fail_cancellation(self, meta: Meta, *, error: str, attempts: int) -> bool:
        if self.status != "cancelling":
            return False
        self._record(self.CancellationFailed, meta, error=error, attempts=attempts)
        return True
