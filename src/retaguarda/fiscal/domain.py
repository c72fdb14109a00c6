"""Fiscal aggregates: FiscalSettings, Certificate and Nfse. Pure: no I/O, no clock.

Nfse life cycle (every step an event; the status is derived from them):

    draft ──emit──► requested ──► submitted ──► authorized ──cancel──► cancelling ──► cancelled
      ▲               │  │  └──────────────────────► ▲                   │  │
      │               │  └─► rejected ─correct/emit──┘(new DPS number)   │  └─► cancellation_rejected
      └──correct──────┘  └─► failed (dead letter) ─retry─► requested     └─► cancellation_failed ─retry─►
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

BACKENDS = ("sandbox", "portal_nacional", "focus_nfe", "tecnospeed")
ENVIRONMENTS = ("producao_restrita", "producao")
TAX_REGIMES = ("normal", "mei", "simples_nacional")
SPECIAL_REGIMES = (0, 1, 2, 3, 4, 5, 6, 9)
CANCEL_REASONS = {"1": "Erro na emissão", "2": "Serviço não prestado", "9": "Outros"}
CREDENTIAL_KEYS = ("focus_token", "focus_token_producao", "plugnotas_api_key")
STATUSES = ("draft", "requested", "submitted", "authorized", "rejected", "failed", "cancelling",
            "cancelled", "cancellation_rejected", "cancellation_failed")
DEAD_LETTER_STATUSES = ("failed", "cancellation_failed")
EXPIRY_THRESHOLDS = (30, 15, 7, 1)

CENT = Decimal("0.01")
DEFAULT_CBS_RATE = Decimal("0.90")
DEFAULT_IBS_UF_RATE = Decimal("0.10")
DEFAULT_IBS_MUN_RATE = Decimal("0.00")
_NAMESPACE = uuid.UUID("8a0f5b8e-3d0c-4c1e-b7d4-1f3c2a9e6d55")

_SERVICE_CODE_RE = re.compile(r"^\d{6}$")
_NBS_RE = re.compile(r"^\d{9}$")
_IBGE_RE = re.compile(r"^\d{7}$")
_SERIES_RE = re.compile(r"^\d{1,5}$")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"settings\x1f{tenant_id}")


def certificate_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"certificate\x1f{tenant_id}")


# Values ----------------------------------------------------------------------------------

def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A Decimal of cents from a decimal string (or int/Decimal); floats are refused."""
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationError(field, "send money as a decimal string, e.g. \"1500.00\"")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "must be a decimal number such as 1500.00") from None
    if not number.is_finite():
        raise ValidationError(field, "must be a decimal number such as 1500.00")
    if number < 0:
        raise ValidationError(field, "cannot be negative")
    if number == 0 and not allow_zero:
        raise ValidationError(field, "must be greater than zero")
    if number != number.quantize(CENT):
        raise ValidationError(field, "must have at most 2 decimal places")
    if number >= Decimal("1e13"):
        raise ValidationError(field, "is too large")
    return cents(number)


def rate(value: Any, field: str, *, maximum: Decimal = Decimal("100")) -> Decimal:
    """A percentage as a Decimal with up to 2 places (e.g. 2.00 for 2 %)."""
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationError(field, "send rates as a decimal string, e.g. \"2.00\"")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "must be a percentage such as 2.00") from None
    if not number.is_finite() or number < 0 or number > maximum:
        raise ValidationError(field, f"must be between 0 and {maximum} (percent)")
    if number != number.quantize(CENT):
        raise ValidationError(field, "must have at most 2 decimal places")
    return number.quantize(CENT)


def compute_taxes(amount: Decimal, deductions: Decimal, iss_rate: Decimal, iss_withheld: bool,
                  cbs_rate: Decimal, ibs_uf_rate: Decimal, ibs_mun_rate: Decimal) -> dict[str, Decimal]:
    """Preview of a note's taxes, half-even to cents (same rules as `fiscal.taxes`):
    ISS base = amount − deductions; CBS/IBS base = amount − ISS (2026 test year, informative)."""
    iss_base = amount - deductions
    iss = cents(iss_base * iss_rate / 100)
    ibscbs_base = amount - iss
    cbs = cents(ibscbs_base * cbs_rate / 100)
    ibs_uf = cents(ibscbs_base * ibs_uf_rate / 100)
    ibs_mun = cents(ibscbs_base * ibs_mun_rate / 100)
    withheld = iss if iss_withheld else Decimal("0.00")
    return {
        "iss_base": iss_base, "iss": iss, "iss_withheld_value": withheld, "net": amount - withheld,
        "ibscbs_base": ibscbs_base, "cbs_rate": cbs_rate, "cbs": cbs, "ibs_uf_rate": ibs_uf_rate,
        "ibs_uf": ibs_uf, "ibs_mun_rate": ibs_mun_rate, "ibs_mun": ibs_mun, "ibs": ibs_uf + ibs_mun,
    }


def clean_service(value: Any, prefix: str = "service") -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError(prefix, "service must be an object with code, nbs and description")
    errors: dict[str, str] = {}
    code = re.sub(r"[.\s]", "", str(value.get("code") or ""))
    if not _SERVICE_CODE_RE.match(code):
        errors[f"{prefix}.code"] = ("national service code (cTribNac) must have 6 digits, "
                                    "e.g. 010701 (item 01.07, subitem 01)")
    nbs = re.sub(r"[.\s]", "", str(value.get("nbs") or ""))
    if nbs and not _NBS_RE.match(nbs):
        errors[f"{prefix}.nbs"] = "NBS code must have 9 digits, e.g. 115021000"
    description = " ".join(str(value.get("description") or "").split())
    if not description:
        errors[f"{prefix}.description"] = "describe the service"
    elif len(description) > 2000:
        errors[f"{prefix}.description"] = "description must have at most 2000 characters"
    if errors:
        raise ValidationError.many(errors)
    return {"code": code, "nbs": nbs, "description": description}


def clean_competence(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("competence", "competence must be a date YYYY-MM-DD") from None


def clean_tomador(value: Any) -> dict[str, Any]:
    """The tomador snapshot taken from the customer; refuses what layout v1.01 cannot carry."""
    document = str(value.get("document") or "")
    if len(document) == 14 and not document.isdigit():
        raise ValidationError(
            "customer_id", "this customer has an alphanumeric CNPJ, which the NFS-e Nacional layout "
                           "v1.01 cannot carry yet; issue the note when the layout accepts it")
    if not (len(document) in (11, 14) and document.isdigit()):
        raise ValidationError("customer_id", "the customer needs a CPF or CNPJ to be a tomador")
    if value.get("status") == "inactive":
        raise ValidationError("customer_id", "the customer is inactive")
    return dict(value)


def _reason(text: Any) -> str:
    reason = " ".join(str(text or "").split())
    if len(reason) < 15:
        raise ValidationError("reason", "the cancellation reason must have at least 15 characters")
    if len(reason) > 255:
        raise ValidationError("reason", "the cancellation reason must have at most 255 characters")
    return reason


# Settings ---------------------------------------------------------------------------------

ISSUER_FIELDS = ("cnpj", "name", "municipal_registration", "tax_regime", "special_regime",
                 "simples_option", "municipality_ibge", "uf", "street", "number", "district", "cep",
                 "email", "phone")


def clean_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Validates a whole settings document (PUT semantics); names every offending field."""
    from retaguarda.shared.documents import normalize_cnpj

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    backend = data.get("backend")
    if backend not in BACKENDS:
        errors["backend"] = f"backend must be one of {', '.join(BACKENDS)}"
    out["backend"] = backend
    environment = data.get("environment") or "producao_restrita"
    if environment not in ENVIRONMENTS:
        errors["environment"] = f"environment must be one of {', '.join(ENVIRONMENTS)}"
    out["environment"] = environment
    raw_issuer = data.get("issuer") or {}
    issuer: dict[str, Any] = {}
    try:
        issuer["cnpj"] = normalize_cnpj(str(raw_issuer.get("cnpj") or ""), "issuer.cnpj")
        if not issuer["cnpj"].isdigit():
            errors["issuer.cnpj"] = "layout v1.01 carries only numeric CNPJ for the issuer"
    except ValidationError as exc:
        errors.update(exc.errors)
    for key in ("name", "municipal_registration", "street", "number", "district", "email", "phone"):
        issuer[key] = " ".join(str(raw_issuer.get(key) or "").split())
    if not issuer["name"]:
        errors["issuer.name"] = "the issuer's legal name is required"
    issuer["municipal_registration"] = re.sub(r"\s", "", issuer["municipal_registration"])
    regime = raw_issuer.get("tax_regime") or "simples_nacional"
    if regime not in TAX_REGIMES:
        errors["issuer.tax_regime"] = f"tax regime must be one of {', '.join(TAX_REGIMES)}"
    issuer["tax_regime"] = regime
    try:
        special = int(raw_issuer.get("special_regime") or 0)
    except (TypeError, ValueError):
        special = -1
    if special not in SPECIAL_REGIMES:
        errors["issuer.special_regime"] = "special regime must be 0-6 or 9 (regEspTrib)"
    issuer["special_regime"] = special
    issuer["simples_option"] = regime in ("mei", "simples_nacional")
    ibge = str(raw_issuer.get("municipality_ibge") or "").strip()
    if not _IBGE_RE.match(ibge):
        errors["issuer.municipality_ibge"] = "IBGE municipality code must have 7 digits"
    issuer["municipality_ibge"] = ibge
    uf = str(raw_issuer.get("uf") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", uf):
        errors["issuer.uf"] = "UF must have 2 letters"
    issuer["uf"] = uf
    cep = re.sub(r"\D", "", str(raw_issuer.get("cep") or ""))
    if cep and len(cep) != 8:
        errors["issuer.cep"] = "CEP must have 8 digits"
    issuer["cep"] = cep
    out["issuer"] = issuer
    series = str(data.get("series") or "900").strip()
    if not _SERIES_RE.match(series) or int(series) == 0:
        errors["series"] = "DPS series must be 1 to 5 digits (not zero)"
    out["series"] = series.lstrip("0") or series
    try:
        next_number = int(data.get("next_number") or 1)
        if next_number < 1 or next_number > 999_999_999_999_999:
            raise ValueError
    except (TypeError, ValueError):
        errors["next_number"] = "next DPS number must be a positive integer"
        next_number = 1
    out["next_number"] = next_number
    service = data.get("default_service") or {}
    try:
        out["default_service"] = clean_service(service, "default_service")
    except ValidationError as exc:
        errors.update(exc.errors)
        out["default_service"] = {}
    for key, default, maximum in (("iss_rate", "2.00", Decimal("5")),):
        try:
            out["default_service"][key] = rate(service.get(key, default), f"default_service.{key}",
                                               maximum=maximum)
        except ValidationError as exc:
            errors.update(exc.errors)
    out["default_service"]["iss_withheld"] = bool(service.get("iss_withheld", False))
    for key, default in (("cbs_rate", DEFAULT_CBS_RATE), ("ibs_uf_rate", DEFAULT_IBS_UF_RATE),
                         ("ibs_mun_rate", DEFAULT_IBS_MUN_RATE)):
        try:
            raw = data.get(key)
            out[key] = rate(default if raw in (None, "") else raw, key)
        except ValidationError as exc:
            errors.update(exc.errors)
    out["emit_on_cash_confirm"] = bool(data.get("emit_on_cash_confirm", False))
    if errors:
        raise ValidationError.many(errors)
    return out


class FiscalSettings(Aggregate):
    """How one tenant issues its notes. Gateway credentials live only in these (encrypted) events.

    State: backend, environment, issuer, series, next_number, default_service, cbs_rate,
    ibs_uf_rate, ibs_mun_rate, emit_on_cash_confirm, secrets (gateway credentials), webhook_token.
    """

    class Configured(Aggregate.Created):
        backend: str
        environment: str
        issuer: dict[str, Any]
        series: str
        next_number: int
        default_service: dict[str, Any]
        cbs_rate: Decimal
        ibs_uf_rate: Decimal
        ibs_mun_rate: Decimal
        emit_on_cash_confirm: bool
        webhook_token: str

        def apply(self, s: "FiscalSettings") -> None:
            super().apply(s)
            s.secrets = {}

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, s: "FiscalSettings") -> None:
            for key, value in self.changes.items():
                setattr(s, key, value)

    class CredentialsChanged(Aggregate.Event):
        """Values are secrets: never projected; the field is named `secrets` so the audit views
        redact it as a whole. An empty string removes a credential."""

        secrets: dict[str, str]

        def apply(self, s: "FiscalSettings") -> None:
            merged = dict(s.secrets)
            for key, value in self.secrets.items():
                if value:
                    merged[key] = value
                else:
                    merged.pop(key, None)
            s.secrets = merged

    class WebhookTokenRotated(Aggregate.Event):
        webhook_token: str

        def apply(self, s: "FiscalSettings") -> None:
            s.webhook_token = self.webhook_token

    @classmethod
    def configure(cls, meta: Meta, data: dict[str, Any], webhook_token: str) -> "FiscalSettings":
        fields = clean_settings(data)
        return cls._open(cls.Configured, meta, id=settings_id(meta.tenant_id),
                         webhook_token=webhook_token, **fields)

    def update(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        fields = clean_settings(data)
        diff = {k: v for k, v in fields.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Updated, meta, changes=diff)
        return diff

    def set_credentials(self, meta: Meta, credentials: dict[str, Any]) -> list[str]:
        unknown = set(credentials) - set(CREDENTIAL_KEYS)
        if unknown:
            raise ValidationError(f"credentials.{sorted(unknown)[0]}", "unknown credential")
        changes = {k: str(v).strip() for k, v in credentials.items()
                   if v is not None and str(v).strip() != self.secrets.get(k, "")}
        changes = {k: v for k, v in changes.items() if v or k in self.secrets}
        if changes:
            self._record(self.CredentialsChanged, meta, secrets=changes)
        return sorted(changes)

    def rotate_webhook_token(self, meta: Meta, token: str) -> None:
        self._record(self.WebhookTokenRotated, meta, webhook_token=token)


# Certificate ----------------------------------------------------------------------------------

class Certificate(Aggregate):
    """The tenant's A1 certificate: the PKCS#12 and its password only in (encrypted) events.

    State: secret_pfx, password, subject, cnpj, issuer, serial_number, valid_from, valid_until,
    warned (thresholds already announced for the current upload), expired.
    """

    class Uploaded(Aggregate.Created):
        secret_pfx: str
        password: str
        subject: str
        cnpj: str
        issuer: str
        serial_number: str
        valid_from: datetime
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            super().apply(c)
            c.warned = []
            c.expired = False

    class Replaced(Aggregate.Event):
        secret_pfx: str
        password: str
        subject: str
        cnpj: str
        issuer: str
        serial_number: str
        valid_from: datetime
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            for key, value in event_fields(self).items():
                setattr(c, key, value)
            c.warned = []
            c.expired = False

    class CertificateExpiring(Aggregate.Event):
        days: int
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            # Larger thresholds passed silently (e.g. uploaded 10 days before expiry) count as said.
            c.warned = sorted(set(c.warned) | {t for t in EXPIRY_THRESHOLDS if t >= self.days})

    class CertificateExpired(Aggregate.Event):
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            c.expired = True

    @classmethod
    def upload(cls, meta: Meta, **fields: Any) -> "Certificate":
        return cls._open(cls.Uploaded, meta, id=certificate_id(meta.tenant_id), **fields)

    def replace(self, meta: Meta, **fields: Any) -> None:
        self._record(self.Replaced, meta, **fields)

    def check_expiry(self, meta: Meta) -> str | None:
        """Records what is due at `meta.at`: the expiry (once) or the tightest threshold not yet
        announced (30/15/7/1 days, once each). Returns "expired", "expiring:<days>" or None."""
        if self.expired:
            return None
        left = self.valid_until - meta.at
        if left.total_seconds() <= 0:
            self._record(self.CertificateExpired, meta, valid_until=self.valid_until)
            return "expired"
        days_left = left.days + (1 if left.seconds or left.microseconds else 0)
        due = [t for t in EXPIRY_THRESHOLDS if days_left <= t and t not in self.warned]
        if not due:
            return None
        tightest = min(due)
        self._record(self.CertificateExpiring, meta, days=tightest, valid_until=self.valid_until)
        return f"expiring:{tightest}"


def event_fields(event: Any) -> dict[str, Any]:
    from retaguarda.shared.aggregate import event_data

    return event_data(event)


# NFS-e ------------------------------------------------------------------------------------

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
