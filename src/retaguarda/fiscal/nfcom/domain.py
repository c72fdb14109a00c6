"""NFCom aggregates: NfcomSettings (per tenant) and Nfcom. Pure: no I/O, no clock.

Nfcom life cycle (every step an event; the status is derived from them):

    draft ──emit──► requested ──► authorized ──cancel──► cancelling ──► cancelled
      ▲               │  │ │                                 │  └─► cancellation_rejected ─cancel─► …
      │               │  │ └─► denied (final)                └─► cancellation_failed ─retry─► cancelling
      └──correct──────┘  ├─► rejected ─emit─► requested (same number, new key)
                         └─► failed (dead letter) ─retry─► requested

The number comes from the series' gap-free `Sequence` when the draft is first sent and stays with
the document: a rejected NFCom is corrected and sent again under the same number (new cNF, new
key), as SVRS only records authorized numbers.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from retaguarda.fiscal.nfcom import values as V
from retaguarda.fiscal.nfcom.key import compose
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

BACKENDS = ("sandbox", "svrs", "focus_nfe")
ENVIRONMENTS = ("homologacao", "producao")
STATUSES = (
    "draft",
    "requested",
    "authorized",
    "rejected",
    "denied",
    "failed",
    "cancelling",
    "cancelled",
    "cancellation_rejected",
    "cancellation_failed",
)
DEAD_LETTER_STATUSES = ("failed", "cancellation_failed")
ISSUE_ON = ("manual", "invoice_issued", "paid")
"""When a billing invoice yields its documents: never by itself, when it is issued, when it is paid."""
INVOICE_ITEM_KINDS = ("plan", "product", "service")
UNITS = ("UN", "MIN", "MB", "GB")
CRT = (1, 2, 3)
SUBSCRIBER_KINDS = (1, 2, 3, 4, 5, 6, 7, 8, 99)
SERVICE_TYPES = (1, 2, 3, 4, 5, 6, 7)
VALID_CFOPS = (
    "1205",
    "5301",
    "5302",
    "5303",
    "5304",
    "5305",
    "5306",
    "5307",
    "5933",
    "6301",
    "6302",
    "6303",
    "6304",
    "6305",
    "6306",
    "6307",
    "7301",
)
CENT = Decimal("0.01")
MAX_ITEMS = 990
CANCEL_HOURS_AFTER_MONTH = 120
_NAMESPACE = uuid.UUID("5b6f2f4e-1d7a-4f7b-9a53-62c0c0aa1062")


def nfcom_settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"nfcom-settings\x1f{tenant_id}")


def sequence_name(series: int) -> str:
    return f"fiscal:nfcom:{series}"


# Values -------------------------------------------------------------------------------------------


def _decimal(value: Any, field: str, *, places: int, allow_zero: bool, maximum: Decimal) -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationError(field, 'send numbers as decimal strings, e.g. "99.90"')
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "must be a decimal number such as 99.90") from None
    if not number.is_finite():
        raise ValidationError(field, "must be a decimal number such as 99.90")
    if number < 0:
        raise ValidationError(field, "cannot be negative")
    if number == 0 and not allow_zero:
        raise ValidationError(field, "must be greater than zero")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(field, f"must have at most {places} decimal places")
    if number > maximum:
        raise ValidationError(field, "is too large")
    return number


def rate(value: Any, field: str) -> Decimal:
    return _decimal(value, field, places=2, allow_zero=True, maximum=Decimal("100")).quantize(CENT)


def clean_competence(value: Any) -> date:
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ValidationError("competence", "competence must be a month YYYY-MM")
    return date.fromisoformat(text + "-01")


def clean_items(raw: Any, defaults: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError("items", "send at least one item")
    if len(raw) > MAX_ITEMS:
        raise ValidationError("items", f"an NFCom carries at most {MAX_ITEMS} items")
    errors: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for n, item in enumerate(raw):
        p = f"items[{n}]"
        if not isinstance(item, dict):
            errors[p] = "each item must be an object"
            continue
        cclass = re.sub(r"\D", "", str(item.get("cclass") or defaults.get("cclass") or ""))
        if not re.fullmatch(r"\d{7}", cclass):
            errors[f"{p}.cclass"] = "cClass must have 7 digits (e.g. 0100401)"
        description = " ".join(str(item.get("description") or "").split())
        if not description:
            errors[f"{p}.description"] = "describe the item"
        elif len(description) > 120:
            errors[f"{p}.description"] = "description must have at most 120 characters"
        unit = str(item.get("unit") or "UN").strip().upper()
        if unit not in UNITS:
            errors[f"{p}.unit"] = f"unit must be one of {', '.join(UNITS)}"
        cfop = re.sub(r"\D", "", str(item.get("cfop") or defaults.get("cfop") or "5307"))
        if cfop not in VALID_CFOPS:
            errors[f"{p}.cfop"] = "CFOP must be one of the NFCom list (e.g. 5307, 6307, 5933)"
        values: dict[str, Decimal] = {}
        for key, places, allow_zero in (
            ("quantity", 4, False),
            ("unit_price", 8, False),
            ("discount", 2, True),
        ):
            try:
                values[key] = _decimal(
                    item.get(key, "0" if key == "discount" else None),
                    f"{p}.{key}",
                    places=places,
                    allow_zero=allow_zero,
                    maximum=Decimal("99999999999"),
                )
            except ValidationError as exc:
                errors.update(exc.errors)
        if len(values) == 3 and values["discount"] > values["quantity"] * values["unit_price"]:
            errors[f"{p}.discount"] = "discount cannot exceed the item's value"
        code = " ".join(str(item.get("code") or f"{n + 1}").split())[:60]
        out.append(
            {"code": code, "cclass": cclass, "description": description, "unit": unit, "cfop": cfop, **values}
        )
    if errors:
        raise ValidationError.many(errors)
    return out


def clean_draft(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"customer_id": str(data.get("customer_id") or "")}
    if not out["customer_id"]:
        errors["customer_id"] = "customer_id is required"
    try:
        out["competence"] = clean_competence(data.get("competence"))
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        out["items"] = clean_items(data.get("items"), defaults)
    except ValidationError as exc:
        errors.update(exc.errors)
    due = data.get("due_date")
    out["due_date"] = None
    if due not in (None, ""):
        try:
            out["due_date"] = date.fromisoformat(str(due))
        except ValueError:
            errors["due_date"] = "due_date must be a date YYYY-MM-DD"
    out["invoice_id"] = str(data.get("invoice_id") or "") or None
    for key, limit in (("barcode", 48), ("pix_url", 2000), ("contract", 20), ("terminal", 12)):
        value = "".join(str(data.get(key) or "").split())
        if key in ("barcode", "terminal") and value and not value.isdigit():
            errors[key] = f"{key} must hold digits only"
        if len(value) > limit:
            errors[key] = f"{key} must have at most {limit} characters"
        out[key] = value
    out["recipient"] = dict(data.get("recipient") or {})
    doc = str(out["recipient"].get("document") or "")
    # dest/CNPJ is TCnpjOpc: the alphanumeric CNPJ ([A-Z0-9]{12}[0-9]{2}) is accepted by the layout
    if out["customer_id"] and not re.fullmatch(r"\d{11}|[A-Z0-9]{12}\d{2}", doc):
        errors["customer_id"] = "the customer needs a CPF or CNPJ to receive an NFCom"
    elif out["customer_id"] and not (
        re.fullmatch(r"\d{7}", str(out["recipient"].get("municipality_ibge") or ""))
        and re.fullmatch(r"[A-Z]{2}", str(out["recipient"].get("uf") or ""))
    ):
        errors["customer_id"] = "the customer's address needs its city (IBGE code) and UF for an NFCom"
    if errors:
        raise ValidationError.many(errors)
    return out


def totals(items: list[dict[str, Any]], taxes: dict[str, Any]) -> dict[str, Decimal]:
    """Same arithmetic as the XML (xml.item_totals), kept here for the draft's preview."""
    t = V.document_totals(tuple(item_of(i) for i in items), taxes_of(taxes))
    return {k: v.quantize(CENT) for k, v in t.items()}


def item_of(i: dict[str, Any]) -> V.Item:
    return V.Item(
        code=str(i["code"]),
        description=str(i["description"]),
        cclass=str(i["cclass"]),
        unit=str(i["unit"]),
        quantity=Decimal(str(i["quantity"])),
        unit_price=Decimal(str(i["unit_price"])),
        cfop=str(i["cfop"]),
        discount=Decimal(str(i.get("discount") or "0")),
    )


def taxes_of(t: dict[str, Any]) -> V.Taxes:
    return V.Taxes(
        icms_mode="simples" if int(t.get("crt", 3)) in (1, 2) else "normal",
        icms_rate=Decimal(str(t.get("icms_rate", "0"))),
        pis_rate=Decimal(str(t.get("pis_rate", "0"))),
        cofins_rate=Decimal(str(t.get("cofins_rate", "0"))),
        fust_rate=Decimal(str(t.get("fust_rate", "0"))),
        funttel_rate=Decimal(str(t.get("funttel_rate", "0"))),
        ibscbs=bool(t.get("ibscbs", False)),
        cbs_rate=Decimal(str(t.get("cbs_rate", "0.90"))),
        ibs_uf_rate=Decimal(str(t.get("ibs_uf_rate", "0.10"))),
        ibs_mun_rate=Decimal(str(t.get("ibs_mun_rate", "0.00"))),
    )


def cancel_deadline(authorized_at: datetime) -> datetime:
    """Up to 120 hours after the last day of the month of authorization (Ajuste SINIEF 7/2022,
    cl. 15ª; MOC L11), counted in Brasília time."""
    from zoneinfo import ZoneInfo

    local = authorized_at.astimezone(ZoneInfo("America/Sao_Paulo"))
    first_next = (local.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return first_next + timedelta(hours=CANCEL_HOURS_AFTER_MONTH)


def clean_reason(text: Any) -> str:
    reason = " ".join(str(text or "").split())
    if len(reason) < 15:
        raise ValidationError("reason", "the cancellation reason must have at least 15 characters")
    if len(reason) > 255:
        raise ValidationError("reason", "the cancellation reason must have at most 255 characters")
    return reason


# Settings ---------------------------------------------------------------------------------------

SETTINGS_DEFAULTS: dict[str, Any] = {
    "backend": "sandbox",
    "environment": "homologacao",
    "series": 1,
    "next_number": 1,
    "state_registration": "",
    "crt": 3,
    "icms_rate": "18.00",
    "pis_rate": "0.65",
    "cofins_rate": "3.00",
    "fust_rate": "1.00",
    "funttel_rate": "0.50",
    "cclass": "0100401",
    "cfop": "5307",
    "subscriber_kind": 3,
    "service_type": 4,
    "ibscbs": False,
    "due_days": 10,
    "city": "",
    "issue_on": "manual",
    "scm_kinds": ["plan"],
}


def clean_settings(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    merged = {**SETTINGS_DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    out: dict[str, Any] = {}
    if merged["backend"] not in BACKENDS:
        errors["backend"] = f"backend must be one of {', '.join(BACKENDS)}"
    out["backend"] = merged["backend"]
    if merged["environment"] not in ENVIRONMENTS:
        errors["environment"] = f"environment must be one of {', '.join(ENVIRONMENTS)}"
    out["environment"] = merged["environment"]
    for key, low, high in (
        ("series", 0, 999),
        ("next_number", 1, 999_999_999),
        ("crt", 1, 3),
        ("subscriber_kind", 1, 99),
        ("service_type", 1, 7),
        ("due_days", 0, 60),
    ):
        try:
            value = int(str(merged[key]).strip())
            if not low <= value <= high:
                raise ValueError
            out[key] = value
        except (TypeError, ValueError):
            errors[key] = f"{key} must be a whole number from {low} to {high}"
    if out.get("subscriber_kind") not in (*SUBSCRIBER_KINDS, None):
        errors["subscriber_kind"] = "subscriber kind must be 1-8 or 99 (tpAssinante)"
    ie = re.sub(r"[.\-/\s]", "", str(merged["state_registration"] or "")).upper()
    if ie and not (ie == "ISENTO" or re.fullmatch(r"\d{2,14}", ie)):
        errors["state_registration"] = "state registration (IE) must have 2 to 14 digits"
    out["state_registration"] = ie
    for key in ("icms_rate", "pis_rate", "cofins_rate", "fust_rate", "funttel_rate"):
        try:
            out[key] = rate(merged[key], key)
        except ValidationError as exc:
            errors.update(exc.errors)
    cclass = re.sub(r"\D", "", str(merged["cclass"] or ""))
    if not re.fullmatch(r"\d{7}", cclass):
        errors["cclass"] = "default cClass must have 7 digits"
    out["cclass"] = cclass
    cfop = re.sub(r"\D", "", str(merged["cfop"] or ""))
    if cfop not in VALID_CFOPS:
        errors["cfop"] = "default CFOP must be one of the NFCom list (e.g. 5307)"
    out["cfop"] = cfop
    out["city"] = " ".join(str(merged.get("city") or "").split())[:60]
    if merged.get("issue_on") not in ISSUE_ON:
        errors["issue_on"] = f"issue_on must be one of {', '.join(ISSUE_ON)}"
    out["issue_on"] = merged.get("issue_on")
    kinds = merged.get("scm_kinds")
    kinds = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else list(kinds or [])
    if any(k not in INVOICE_ITEM_KINDS for k in kinds):
        errors["scm_kinds"] = f"SCM item kinds must be among {', '.join(INVOICE_ITEM_KINDS)}"
    out["scm_kinds"] = sorted(set(kinds))
    out["ibscbs"] = (
        bool(merged["ibscbs"])
        if isinstance(merged["ibscbs"], bool)
        else str(merged["ibscbs"]).lower() in ("1", "true", "on", "yes")
    )
    if errors:
        raise ValidationError.many(errors)
    return out


class NfcomSettings(Aggregate):
    """How one tenant issues NFCom (the issuer's identity comes from the fiscal settings)."""

    class Configured(Aggregate.Created):
        fields: dict[str, Any]

        def apply(self, s: NfcomSettings) -> None:
            s.tenant_id = self.tenant_id
            s.fields = dict(self.fields)

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, s: NfcomSettings) -> None:
            s.fields = {**s.fields, **self.changes}

    @classmethod
    def configure(cls, meta: Meta, data: dict[str, Any]) -> NfcomSettings:
        return cls._open(
            cls.Configured, meta, id=nfcom_settings_id(meta.tenant_id), fields=clean_settings(data)
        )

    def update(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        fields = clean_settings({**self.fields, **data})
        diff = {k: v for k, v in fields.items() if self.fields.get(k) != v}
        if diff:
            self._record(self.Updated, meta, changes=diff)
        return diff


# Nfcom ------------------------------------------------------------------------------------------


class Nfcom(Aggregate):
    """One NFCom (model 62) from draft to authorized/cancelled.

    State: customer_id, recipient, competence, due_date, invoice_id, items, barcode, pix_url,
    contract, terminal, totals, status, series, number, random_code, access_key, issued_at,
    backend, environment, issuer, taxes, protocol, authorized_at, cstat, reason, xml, proc_xml,
    attempts, last_error, cancel_reason, cancel_protocol, cancel_event_xml, cancelled_at, round.
    """

    class Drafted(Aggregate.Created):
        customer_id: str
        recipient: dict[str, Any]
        competence: date
        due_date: date | None
        invoice_id: str | None
        items: list[dict[str, Any]]
        barcode: str
        pix_url: str
        contract: str
        terminal: str
        totals: dict[str, Decimal]

        def apply(self, n: Nfcom) -> None:
            super().apply(n)
            n.status = "draft"
            n.correlation_id = self.correlation_id
            for key in (
                "series",
                "number",
                "random_code",
                "access_key",
                "issued_at",
                "backend",
                "environment",
                "protocol",
                "authorized_at",
                "cstat",
                "reason",
                "xml",
                "proc_xml",
                "last_error",
                "cancel_reason",
                "cancel_protocol",
                "cancel_event_xml",
                "cancelled_at",
                "requested_at",
                "failed_at",
            ):
                setattr(n, key, None)
            n.issuer, n.taxes = {}, {}
            n.attempts = 0
            n.round = 0

    class Corrected(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, n: Nfcom) -> None:
            for key, value in self.changes.items():
                setattr(n, key, value)

    class EmissionRequested(Aggregate.Event):
        series: int
        number: int
        random_code: str
        access_key: str
        issued_at: datetime
        backend: str
        environment: str
        issuer: dict[str, Any]
        taxes: dict[str, Any]
        totals: dict[str, Decimal]

        def apply(self, n: Nfcom) -> None:
            n.status = "requested"
            n.correlation_id = self.correlation_id
            for key in (
                "series",
                "number",
                "random_code",
                "access_key",
                "issued_at",
                "backend",
                "environment",
                "issuer",
                "taxes",
                "totals",
            ):
                setattr(n, key, getattr(self, key))
            n.requested_at = self.timestamp
            n.cstat = n.reason = n.last_error = None
            n.attempts = 0
            n.round += 1

    class AttemptFailed(Aggregate.Event):
        """A transient fault (timeout, 5xx…): retried. `calls` is the sanitized integration log."""

        operation: str
        attempt: int
        error: str
        retry_in_ms: int
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.attempts = self.attempt
            n.last_error = self.error

    class CallsRecorded(Aggregate.Event):
        operation: str
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            pass

    class Authorized(Aggregate.Event):
        access_key: str
        protocol: str
        authorized_at: datetime
        cstat: str
        reason: str
        xml: str
        proc_xml: str
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.status = "authorized"
            n.access_key = self.access_key or n.access_key
            n.protocol, n.authorized_at = self.protocol, self.authorized_at
            n.cstat, n.reason = self.cstat, self.reason
            n.xml, n.proc_xml = self.xml or n.xml, self.proc_xml or n.proc_xml
            n.last_error = None

    class Rejected(Aggregate.Event):
        cstat: str
        reason: str
        xml: str
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.status = "rejected"
            n.cstat, n.reason = self.cstat, self.reason
            n.xml = self.xml or n.xml

    class Denied(Aggregate.Event):
        cstat: str
        reason: str
        xml: str
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.status = "denied"
            n.cstat, n.reason = self.cstat, self.reason
            n.xml = self.xml or n.xml

    class EmissionFailed(Aggregate.Event):
        error: str
        attempts: int

        def apply(self, n: Nfcom) -> None:
            n.status = "failed"
            n.last_error, n.attempts = self.error, self.attempts
            n.failed_at = self.timestamp

    class EmissionRetryRequested(Aggregate.Event):
        def apply(self, n: Nfcom) -> None:
            n.status = "requested"
            n.last_error, n.attempts = None, 0

    class CancellationRequested(Aggregate.Event):
        reason: str

        def apply(self, n: Nfcom) -> None:
            n.status = "cancelling"
            n.correlation_id = self.correlation_id
            n.cancel_reason = self.reason
            n.last_error, n.attempts = None, 0

    class Cancelled(Aggregate.Event):
        protocol: str
        event_xml: str
        cancelled_at: datetime
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.status = "cancelled"
            n.cancel_protocol, n.cancel_event_xml = self.protocol, self.event_xml
            n.cancelled_at = self.cancelled_at

    class CancellationRejected(Aggregate.Event):
        cstat: str
        reason: str
        calls: list[dict[str, Any]]

        def apply(self, n: Nfcom) -> None:
            n.status = "cancellation_rejected"
            n.cstat, n.reason = self.cstat, self.reason

    class CancellationFailed(Aggregate.Event):
        error: str
        attempts: int

        def apply(self, n: Nfcom) -> None:
            n.status = "cancellation_failed"
            n.last_error, n.attempts = self.error, self.attempts
            n.failed_at = self.timestamp

    class CancellationRetryRequested(Aggregate.Event):
        def apply(self, n: Nfcom) -> None:
            n.status = "cancelling"
            n.last_error, n.attempts = None, 0

    # Commands -------------------------------------------------------------------------------------

    @classmethod
    def draft(cls, nfcom_id: UUID, meta: Meta, data: dict[str, Any], defaults: dict[str, Any]) -> Nfcom:
        fields = clean_draft(data, defaults)
        fields["totals"] = totals(fields["items"], defaults)
        return cls._open(cls.Drafted, meta, id=nfcom_id, **fields)

    def correct(self, meta: Meta, data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        if self.status not in ("draft", "rejected"):
            raise ConflictError(f"only a draft or a rejected NFCom can be corrected (it is {self.status})")
        keys = (
            "customer_id",
            "recipient",
            "competence",
            "due_date",
            "invoice_id",
            "items",
            "barcode",
            "pix_url",
            "contract",
            "terminal",
        )
        merged: dict[str, Any] = {k: getattr(self, k) for k in keys}
        merged["competence"] = f"{self.competence:%Y-%m}"
        merged["due_date"] = self.due_date.isoformat() if self.due_date else None
        merged["items"] = [
            {
                **i,
                "quantity": str(i["quantity"]),
                "unit_price": str(i["unit_price"]),
                "discount": str(i["discount"]),
            }
            for i in self.items
        ]
        merged.update({k: v for k, v in data.items() if k in keys})
        fields = clean_draft(merged, defaults)
        fields["totals"] = totals(fields["items"], defaults)
        diff = {k: v for k, v in fields.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Corrected, meta, changes=diff)
        return diff

    def request_emission(
        self,
        meta: Meta,
        *,
        series: int,
        number: int | None,
        random_code: str,
        backend: str,
        environment: str,
        issuer: dict[str, Any],
        taxes: dict[str, Any],
    ) -> None:
        if self.status not in ("draft", "rejected"):
            raise ConflictError(f"only a draft or a rejected NFCom can be sent (it is {self.status})")
        if number is None:
            raise ConflictError("an NFCom needs a number from its series")
        key = compose(
            uf=issuer["uf"],
            issued_on=meta.at.astimezone(_tz()).date(),
            cnpj=issuer["cnpj"],
            series=series,
            number=number,
            random_code=random_code,
        )
        self._record(
            self.EmissionRequested,
            meta,
            series=series,
            number=number,
            random_code=random_code,
            access_key=key,
            issued_at=meta.at,
            backend=backend,
            environment=environment,
            issuer=dict(issuer),
            taxes=dict(taxes),
            totals=totals(self.items, taxes),
        )

    def attempt_failed(
        self,
        meta: Meta,
        *,
        operation: str,
        attempt: int,
        error: str,
        retry_in_ms: int,
        calls: list[dict[str, Any]],
    ) -> None:
        self._record(
            self.AttemptFailed,
            meta,
            operation=operation,
            attempt=attempt,
            error=error,
            retry_in_ms=retry_in_ms,
            calls=calls,
        )

    def record_calls(self, meta: Meta, operation: str, calls: list[dict[str, Any]]) -> bool:
        if not calls:
            return False
        self._record(self.CallsRecorded, meta, operation=operation, calls=calls)
        return True

    def authorize(
        self,
        meta: Meta,
        *,
        protocol: str,
        authorized_at: datetime,
        cstat: str,
        reason: str,
        xml: str,
        proc_xml: str,
        calls: list[dict[str, Any]],
        access_key: str = "",
    ) -> bool:
        """False (nothing recorded) when the outcome is no longer news. `access_key`: the key the
        authority (or a gateway that composes its own) answered, when it differs."""
        if self.status not in ("requested", "failed"):
            return False
        self._record(
            self.Authorized,
            meta,
            access_key=access_key,
            protocol=protocol,
            authorized_at=authorized_at,
            cstat=cstat,
            reason=reason,
            xml=xml,
            proc_xml=proc_xml,
            calls=calls,
        )
        return True

    def reject(self, meta: Meta, *, cstat: str, reason: str, xml: str, calls: list[dict[str, Any]]) -> bool:
        if self.status not in ("requested", "failed"):
            return False
        self._record(self.Rejected, meta, cstat=cstat, reason=reason, xml=xml, calls=calls)
        return True

    def deny(self, meta: Meta, *, cstat: str, reason: str, xml: str, calls: list[dict[str, Any]]) -> bool:
        if self.status not in ("requested", "failed"):
            return False
        self._record(self.Denied, meta, cstat=cstat, reason=reason, xml=xml, calls=calls)
        return True

    def fail_emission(self, meta: Meta, *, error: str, attempts: int) -> bool:
        if self.status != "requested":
            return False
        self._record(self.EmissionFailed, meta, error=error, attempts=attempts)
        return True

    def retry(self, meta: Meta) -> str:
        if self.status == "failed":
            self._record(self.EmissionRetryRequested, meta)
            return "emission"
        if self.status == "cancellation_failed":
            self._record(self.CancellationRetryRequested, meta)
            return "cancellation"
        raise ConflictError(f"only a failed NFCom can be retried (it is {self.status})")

    def request_cancellation(self, meta: Meta, reason: Any) -> None:
        if self.status not in ("authorized", "cancellation_rejected"):
            raise ConflictError(f"only an authorized NFCom can be cancelled (it is {self.status})")
        text = clean_reason(reason)
        if self.authorized_at is not None and meta.at > cancel_deadline(self.authorized_at):
            raise ConflictError(
                "the cancellation window closed (120 hours after the end of the month "
                "of authorization); issue a substitute NFCom instead",
                field="reason",
            )
        self._record(self.CancellationRequested, meta, reason=text)

    def cancelled(self, meta: Meta, *, protocol: str, event_xml: str, calls: list[dict[str, Any]]) -> bool:
        if self.status not in ("cancelling", "cancellation_failed"):
            return False
        self._record(
            self.Cancelled, meta, protocol=protocol, event_xml=event_xml, cancelled_at=meta.at, calls=calls
        )
        return True

    def cancellation_rejected(
        self, meta: Meta, *, cstat: str, reason: str, calls: list[dict[str, Any]]
    ) -> bool:
        if self.status != "cancelling":
            return False
        self._record(self.CancellationRejected, meta, cstat=cstat, reason=reason, calls=calls)
        return True

    def fail_cancellation(self, meta: Meta, *, error: str, attempts: int) -> bool:
        if self.status != "cancelling":
            return False
        self._record(self.CancellationFailed, meta, error=error, attempts=attempts)
        return True


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Sao_Paulo")
