"""EnergyAccount, ConsumerUnit and EnergyBill. Pure: no I/O, no clock (time comes in `Meta.at`).

Connection status of an account (409 for anything else):

    disconnected ─► awaiting_sms ─► connected ─► expired (24 h, or the portal refused the session)
         ▲   │            │  ▲ (wrong code: stays)      └─► awaiting_sms (connect again)
         │   └────────────┴──┴──► failed / blocked (portal bot protection: "Access Denied")
         └── (any of expired / failed / blocked may connect again)

The portal session (cookies and tokens) is sealed by the application (AES-GCM) before it enters
an event; the domain only carries the opaque sealed text.

A plant's beneficiaries are integer percents whose sum is at most 100 (the rest stays with the
plant); every change is one `BeneficiariesChanged` event holding the whole new split.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

NAMESPACE = uuid.UUID("0b6c7d52-39a4-4e1f-9a57-3c1e2f0d8e11")
STATUSES = ("disconnected", "awaiting_sms", "connected", "expired", "blocked", "failed")
SYNC_STATUSES = ("running", "completed", "partial", "failed")
BILL_STATUSES = ("pending", "paid_on_time", "paid_late")
DISTRIBUTORS = ("energisa",)
SESSION_HOURS = 24
SMS_MINUTES = 5
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")


def unit_uuid(tenant_id: str, account_id: str, company_code: int, number: int) -> UUID:
    return uuid.uuid5(NAMESPACE, f"unit\x1f{tenant_id}\x1f{account_id}\x1f{company_code}\x1f{number}")


def bill_uuid(tenant_id: str, unit_id: str, bill_number: int, reference_month: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"bill\x1f{tenant_id}\x1f{unit_id}\x1f{bill_number}\x1f{reference_month}")


def money_from_portal(value: Any) -> Decimal:
    """The portal's float (or int / numeric text) as Decimal exact to the cent.

    `Decimal(float)` would carry the binary error (114.04 → 114.0399999…); the float's shortest
    round-tripping text (`repr`) is the number the portal meant, then rounded half-up to cents.
    """
    if isinstance(value, bool) or value is None:
        raise ValidationError("amount", "amount must be a number")
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (int, Decimal)):
        text = str(value)
    else:
        text = str(value).strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError("amount", "amount must be a number") from None
    if not amount.is_finite():
        raise ValidationError("amount", "amount must be a finite number")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError("amount", "amount is out of range")
    return amount


def clean_beneficiaries(items: Any) -> list[dict[str, Any]]:
    """Integer percents 0..100, one entry per UC number, summing to at most 100."""
    if not isinstance(items, list):
        raise ValidationError("beneficiaries", "beneficiaries must be a list")
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"beneficiaries[{i}]", "each beneficiary is {number, percent}")
        number, percent = item.get("number"), item.get("percent")
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise ValidationError(f"beneficiaries[{i}].number", "number must be a positive integer")
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValidationError(f"beneficiaries[{i}].percent", "percent must be an integer from 0 to 100")
        if number in seen:
            raise ValidationError(f"beneficiaries[{i}].number", "a unit appears twice")
        seen.add(number)
        out.append(
            {
                "number": number,
                "digit": int(item.get("digit") or 0),
                "name": str(item.get("name") or "")[:120],
                "percent": percent,
            }
        )
    if sum(b["percent"] for b in out) > 100:
        raise ValidationError("beneficiaries", "the percents sum to more than 100")
    return sorted(out, key=lambda b: b["number"])


def _text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


class _FieldsChanged(Aggregate.Event):
    """Some of the fields the portal reports for a unit or a bill took new values."""

    changes: dict[str, Any]

    def apply(self, aggregate: Any) -> None:
        for key, value in self.changes.items():
            setattr(aggregate, key, value)


def _record_changes(aggregate: Aggregate, event: type[_FieldsChanged], meta: Meta,
                    data: dict[str, Any]) -> dict[str, Any]:
    """Record `event` with the values of `data` that differ from the aggregate's; return them."""
    changes = {k: v for k, v in data.items() if getattr(aggregate, k) != v}
    if changes:
        aggregate._record(event, meta, changes=changes)
    return changes


class EnergyAccount(Aggregate):
    """A client company's login at the utility's portal."""

    if TYPE_CHECKING:
        name: str
        document: str
        phone_last4: str
        distributor: str
        customer_id: str | None
        portal: str
        status: str
        transaction_id: str | None
        sms_expires_at: datetime | None
        session_sealed: str | None
        session_expires_at: datetime | None
        status_reason: str
        last_sync: dict[str, Any] | None
        connected_at: datetime | None

    class Registered(Aggregate.Created):
        name: str
        document: str
        phone_last4: str
        distributor: str
        customer_id: str | None
        portal: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = "disconnected"
            aggregate.transaction_id = None
            aggregate.sms_expires_at = None
            aggregate.session_sealed = None
            aggregate.session_expires_at = None
            aggregate.status_reason = ""
            aggregate.last_sync = None
            aggregate.connected_at = None

    @classmethod
    def register(
        cls,
        meta: Meta,
        *,
        document: str,
        name: Any,
        phone_last4: Any,
        distributor: Any = "energisa",
        customer_id: Any = None,
        portal: str = "sandbox",
    ) -> EnergyAccount:
        last4 = str(phone_last4 or "").strip()
        if not re.fullmatch(r"[0-9]{4}", last4):
            raise ValidationError("phone_last4", "phone_last4 must be the last 4 digits of the phone")
        if distributor not in DISTRIBUTORS:
            raise ValidationError("distributor", f"distributor must be one of: {', '.join(DISTRIBUTORS)}")
        account: EnergyAccount = cls._open(
            cls.Registered,
            meta,
            id=uuid.uuid4(),
            name=_text(name, "name", 120, required=True),
            document=document,
            phone_last4=last4,
            distributor=str(distributor),
            customer_id=str(customer_id) if customer_id else None,
            portal=portal,
        )
        return account

    # Connection ----------------------------------------------------------------------------
    class ConnectStarted(Aggregate.Event):
        transaction_id: str
        sms_expires_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "awaiting_sms"
            aggregate.transaction_id = self.transaction_id
            aggregate.sms_expires_at = self.sms_expires_at
            aggregate.status_reason = ""

    def start_connect(self, meta: Meta, transaction_id: str) -> None:
        self._record(
            self.ConnectStarted,
            meta,
            transaction_id=transaction_id,
            sms_expires_at=meta.at + timedelta(minutes=SMS_MINUTES),
        )

    def check_transaction(self, transaction_id: str) -> None:
        if self.status != "awaiting_sms":
            raise ConflictError(f"the account is {self.status}, not awaiting an SMS code", field="status")
        if transaction_id != self.transaction_id:
            raise ValidationError("transaction_id", "unknown or superseded transaction; connect again")

    class SmsRejected(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status_reason = self.reason

    def reject_sms(self, meta: Meta, reason: str) -> None:
        self._record(self.SmsRejected, meta, reason=reason[:300])

    class Connected(Aggregate.Event):
        session_sealed: str
        session_expires_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "connected"
            aggregate.session_sealed = self.session_sealed
            aggregate.session_expires_at = self.session_expires_at
            aggregate.transaction_id = None
            aggregate.sms_expires_at = None
            aggregate.status_reason = ""
            aggregate.connected_at = self.timestamp

    def connect(self, meta: Meta, session_sealed: str) -> None:
        if self.status != "awaiting_sms":
            raise ConflictError(f"the account is {self.status}, not awaiting an SMS code", field="status")
        self._record(
            self.Connected,
            meta,
            session_sealed=session_sealed,
            session_expires_at=meta.at + timedelta(hours=SESSION_HOURS),
        )

    class SessionRefreshed(Aggregate.Event):
        session_sealed: str

        def apply(self, aggregate: Any) -> None:
            aggregate.session_sealed = self.session_sealed

    def refresh_session(self, meta: Meta, session_sealed: str) -> None:
        if self.status == "connected" and session_sealed != self.session_sealed:
            self._record(self.SessionRefreshed, meta, session_sealed=session_sealed)

    class ConnectionLost(Aggregate.Event):
        status: str
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = self.status
            aggregate.status_reason = self.reason
            aggregate.session_sealed = None
            aggregate.session_expires_at = None
            aggregate.transaction_id = None
            aggregate.sms_expires_at = None

    def lose_connection(self, meta: Meta, status: str, reason: str) -> None:
        """expired (new SMS needed), blocked (bot protection) or failed; the session is dropped."""
        if status not in ("expired", "blocked", "failed", "disconnected"):
            raise ValueError(status)
        self._record(self.ConnectionLost, meta, status=status, reason=reason[:300])

    def session_valid(self, now: datetime) -> bool:
        return (
            self.status == "connected"
            and self.session_sealed is not None
            and self.session_expires_at is not None
            and now < self.session_expires_at
        )

    # Sync ------------------------------------------------------------------------------------
    class SyncStarted(Aggregate.Event):
        run_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.last_sync = {
                "run_id": self.run_id,
                "status": "running",
                "started_at": self.timestamp,
                "finished_at": None,
                "done": 0,
                "total": 0,
                "units": 0,
                "bills": 0,
                "new_bills": 0,
                "failed_units": 0,
                "errors": [],
            }

    def sync_running(self, now: datetime, stale_after: timedelta = timedelta(hours=1)) -> bool:
        s = self.last_sync
        return bool(s and s["status"] == "running" and now - s["started_at"] < stale_after)

    def start_sync(self, meta: Meta, run_id: str) -> bool:
        """False when a sync of this account is already running (one at a time)."""
        if self.status != "connected":
            raise ConflictError(f"the account is {self.status}; connect it first", field="status")
        if self.sync_running(meta.at):
            return False
        self._record(self.SyncStarted, meta, run_id=run_id)
        return True

    class SyncProgressed(Aggregate.Event):
        run_id: str
        done: int
        total: int

        def apply(self, aggregate: Any) -> None:
            if aggregate.last_sync and aggregate.last_sync["run_id"] == self.run_id:
                aggregate.last_sync = {**aggregate.last_sync, "done": self.done, "total": self.total}

    def progress(self, meta: Meta, run_id: str, done: int, total: int) -> None:
        self._record(self.SyncProgressed, meta, run_id=run_id, done=done, total=total)

    class SyncFinished(Aggregate.Event):
        run_id: str
        status: str
        units: int
        bills: int
        new_bills: int
        failed_units: int
        errors: list[dict[str, str]]

        def apply(self, aggregate: Any) -> None:
            base = aggregate.last_sync or {
                "run_id": self.run_id,
                "started_at": self.timestamp,
                "done": 0,
                "total": 0,
            }
            aggregate.last_sync = {
                **base,
                "status": self.status,
                "finished_at": self.timestamp,
                "units": self.units,
                "bills": self.bills,
                "new_bills": self.new_bills,
                "failed_units": self.failed_units,
                "errors": list(self.errors),
            }

    def finish_sync(
        self,
        meta: Meta,
        run_id: str,
        *,
        units: int,
        bills: int,
        new_bills: int,
        errors: list[dict[str, str]],
        fatal: bool = False,
    ) -> str:
        """`units` is the number of UCs listed; failed when nothing could be read."""
        if fatal or (errors and len(errors) >= units):
            status = "failed"
        else:
            status = "partial" if errors else "completed"
        self._record(
            self.SyncFinished,
            meta,
            run_id=run_id,
            status=status,
            units=units,
            bills=bills,
            new_bills=new_bills,
            failed_units=len(errors),
            errors=errors[:50],
        )
        return status


class ConsumerUnit(Aggregate):
    """A UC at the distributor: address, class, flags, and for a plant its credit and beneficiaries."""

    if TYPE_CHECKING:
        account_id: str
        number: int
        digit: int
        company_code: int
        address: str
        city: str
        klass: str
        active: bool
        cut: bool
        low_income: bool
        is_generator: bool
        generator_number: int | None
        credit_kwh: Decimal | None
        beneficiaries: list[dict[str, Any]]

    class Discovered(Aggregate.Created):
        account_id: str
        number: int
        digit: int
        company_code: int
        address: str
        city: str
        klass: str
        active: bool
        cut: bool
        low_income: bool
        is_generator: bool
        generator_number: int | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.credit_kwh = None
            aggregate.beneficiaries = []

    FIELDS = (
        "digit",
        "address",
        "city",
        "klass",
        "active",
        "cut",
        "low_income",
        "is_generator",
        "generator_number",
    )

    @classmethod
    def discover(cls, meta: Meta, account_id: str, data: dict[str, Any]) -> ConsumerUnit:
        unit: ConsumerUnit = cls._open(
            cls.Discovered,
            meta,
            id=unit_uuid(meta.tenant_id, account_id, int(data["company_code"]), int(data["number"])),
            account_id=account_id,
            number=int(data["number"]),
            company_code=int(data["company_code"]),
            **{k: data[k] for k in cls.FIELDS},
        )
        return unit

    class Changed(_FieldsChanged):
        pass

    def update(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        return _record_changes(self, self.Changed, meta, {k: data[k] for k in self.FIELDS if k in data})

    class CreditRead(Aggregate.Event):
        credit_kwh: Decimal

        def apply(self, aggregate: Any) -> None:
            aggregate.credit_kwh = self.credit_kwh

    def read_credit(self, meta: Meta, credit_kwh: Decimal) -> None:
        if credit_kwh != self.credit_kwh:
            self._record(self.CreditRead, meta, credit_kwh=credit_kwh)

    class BeneficiariesChanged(Aggregate.Event):
        beneficiaries: list[dict[str, Any]]
        previous: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.beneficiaries = [dict(b) for b in self.beneficiaries]

    def set_beneficiaries(self, meta: Meta, items: Any) -> bool:
        """Records the new split when it differs; refuses a split summing above 100."""
        if not self.is_generator:
            raise ConflictError("only a generating unit (plant) has beneficiaries", field="beneficiaries")
        clean = clean_beneficiaries(items)
        if clean == self.beneficiaries:
            return False
        self._record(self.BeneficiariesChanged, meta, beneficiaries=clean, previous=list(self.beneficiaries))
        return True

    def percent_total(self) -> int:
        return sum(int(b["percent"]) for b in self.beneficiaries)


class EnergyBill(Aggregate):
    """One monthly bill of a UC, with its payment codes and (once fetched) its cached PDF."""

    if TYPE_CHECKING:
        account_id: str
        unit_id: str
        unit_number: int
        reference_month: str
        number: int
        amount: Decimal
        due_date: date | None
        payment_date: date | None
        status: str
        consumption_kwh: Decimal | None
        tariff_flag: str
        items: dict[str, str]
        pix_copy_paste: str
        barcode: str
        digitable_line: str
        pdf_sha256: str | None
        pdf_size: int

    class Imported(Aggregate.Created):
        account_id: str
        unit_id: str
        unit_number: int
        reference_month: str
        number: int
        amount: Decimal
        due_date: date | None
        payment_date: date | None
        status: str
        consumption_kwh: Decimal | None
        tariff_flag: str
        items: dict[str, str]
        pix_copy_paste: str
        barcode: str
        digitable_line: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.pdf_sha256 = None
            aggregate.pdf_size = 0

    FIELDS = (
        "amount",
        "due_date",
        "payment_date",
        "status",
        "consumption_kwh",
        "tariff_flag",
        "items",
        "pix_copy_paste",
        "barcode",
        "digitable_line",
    )

    @classmethod
    def import_(
        cls, meta: Meta, *, account_id: str, unit_id: str, unit_number: int, data: dict[str, Any]
    ) -> EnergyBill:
        month = str(data["reference_month"])
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
            raise ValidationError("reference_month", "reference_month is YYYY-MM")
        if data["status"] not in BILL_STATUSES:
            raise ValidationError("status", f"status must be one of: {', '.join(BILL_STATUSES)}")
        bill: EnergyBill = cls._open(
            cls.Imported,
            meta,
            id=bill_uuid(meta.tenant_id, unit_id, int(data["number"]), month),
            account_id=account_id,
            unit_id=unit_id,
            unit_number=unit_number,
            reference_month=month,
            number=int(data["number"]),
            **{k: data[k] for k in cls.FIELDS},
        )
        return bill

    class Updated(_FieldsChanged):
        pass

    def update(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        return _record_changes(self, self.Updated, meta, {k: data[k] for k in self.FIELDS if k in data})

    class PdfCached(Aggregate.Event):
        sha256: str
        size: int

        def apply(self, aggregate: Any) -> None:
            aggregate.pdf_sha256 = self.sha256
            aggregate.pdf_size = self.size

    def cache_pdf(self, meta: Meta, sha256: str, size: int) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if sha256 != self.pdf_sha256:
            self._record(self.PdfCached, meta, sha256=sha256, size=size)
