"""Energy commands: accounts and their SMS login, the sync of units and bills, cached PDFs.

The login is interactive (the person types the SMS code while the portal waits), so `connect`
and `submit_sms` call the portal port inside the request; everything else the portal gives is
read by the `energy.sync_account` job (`run_sync`), which a `SyncStarted` event triggers. The
portal adapter of an account is chosen by the installer (`portal_for`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from retaguarda.energy import secrets
from retaguarda.energy.domain import ConsumerUnit, EnergyAccount, EnergyBill, bill_uuid, unit_uuid
from retaguarda.energy.mapping import bill_from_portal, gd_from_portal, unit_from_portal
from retaguarda.energy.portal.base import (
    AccessDenied,
    CodeExpired,
    EnergyPortal,
    NoSuchPhone,
    PortalError,
    PortalSession,
    SessionExpired,
    UnknownTransaction,
    WrongCode,
)
from retaguarda.eventstore import EventStore
from retaguarda.files import AttachmentStore
from retaguarda.services import Saved, Service
from retaguarda.shared.documents import mask_document, normalize_cnpj, normalize_cpf
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta

log = structlog.get_logger("retaguarda.energy")
PORTALS = ("sandbox", "energisa")


def normalize_account_document(value: Any) -> str:
    """A CPF (11 digits) or CNPJ (14, alphanumeric allowed); 422 naming `document` otherwise."""
    text = re.sub(r"[.\-/\s]", "", str(value or "")).upper()
    if len(text) == 11:
        return normalize_cpf(text, "document")
    if len(text) == 14:
        return normalize_cnpj(text, "document")
    raise ValidationError("document", "document must be a valid CPF (11 digits) or CNPJ (14 characters)")


@dataclass
class SyncReport:
    status: str
    units: int = 0
    bills: int = 0
    new_bills: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


class Energy(Service):
    """Utility-portal accounts of every tenant."""

    def __init__(
        self,
        store: EventStore,
        on_saved: Callable[[int], None] | None = None,
        *,
        portal_for: Callable[[str], EnergyPortal],
        session_key: bytes,
        pdfs: AttachmentStore,
        now: Callable[[], datetime],
        default_portal: str = "sandbox",
        customer_exists: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__(store, on_saved)
        self._portal_for = portal_for
        self._key = session_key
        self.pdfs = pdfs
        self._now = now
        self.default_portal = default_portal
        self._customer_exists = customer_exists or (lambda tenant_id, customer_id: True)

    def portal(self, account: EnergyAccount) -> EnergyPortal:
        return self._portal_for(account.portal)

    # Accounts --------------------------------------------------------------------------------
    def create_account(
        self,
        meta: Meta,
        *,
        name: Any,
        document: Any,
        phone_last4: Any,
        distributor: Any = "energisa",
        customer_id: Any = None,
        portal: Any = None,
    ) -> Saved:
        doc = normalize_account_document(document)
        chosen = str(portal or self.default_portal)
        if chosen not in PORTALS:
            raise ValidationError("portal", f"portal must be one of: {', '.join(PORTALS)}")
        if customer_id and not self._customer_exists(meta.tenant_id, str(customer_id)):
            raise ValidationError("customer_id", "no such customer")
        account = EnergyAccount.register(
            meta,
            document=doc,
            name=name,
            phone_last4=phone_last4,
            distributor=distributor or "energisa",
            customer_id=customer_id,
            portal=chosen,
        )
        return Saved(account, self.save(account))

    def get_account(self, tenant_id: str, account_id: str) -> EnergyAccount:
        return self.load(EnergyAccount, account_id, tenant_id)

    def connect(self, meta: Meta, account_id: str) -> Saved:
        """Starts the portal login: the portal sends the SMS to the phone ending in phone_last4."""
        account = self.get_account(meta.tenant_id, account_id)
        if account.status == "awaiting_sms" and account.sms_expires_at and meta.at < account.sms_expires_at:
            pass  # a new SMS replaces the pending one
        try:
            started = self.portal(account).start_login(account.document, account.phone_last4)
        except NoSuchPhone as exc:
            raise ValidationError("phone_last4", str(exc)) from None
        except AccessDenied as exc:
            self._lose(
                meta, account_id, "blocked", str(exc) or "the portal's bot protection refused the access"
            )
            raise ConflictError(
                "the portal's bot protection refused the access (Access Denied); try again later",
                field="status",
            ) from None
        except PortalError as exc:
            self._lose(meta, account_id, "failed", str(exc))
            raise ConflictError(f"the portal refused the login: {exc}", field="status") from None
        log.info("energy_login_started", account=account_id, document=mask_document(account.document))

        def command() -> Saved:
            fresh = self.get_account(meta.tenant_id, account_id)
            fresh.start_connect(meta, started.transaction_id)
            return Saved(fresh, self.save(fresh))

        return self.retrying(command)

    def submit_sms(self, meta: Meta, account_id: str, *, transaction_id: Any, code: Any) -> Saved:
        """The SMS code: connected (and a first sync started), or 4xx naming `code`."""
        account = self.get_account(meta.tenant_id, account_id)
        tid = str(transaction_id or "").strip()
        if not tid:
            raise ValidationError("transaction_id", "transaction_id is required")
        account.check_transaction(tid)
        text = str(code or "").strip()
        if not re.fullmatch(r"[0-9]{4,8}", text):
            raise ValidationError("code", "code is the 4 to 8 digits of the SMS")
        if account.sms_expires_at is not None and meta.at >= account.sms_expires_at:
            self._lose(meta, account_id, "expired", "the SMS code expired")
            raise ValidationError("code", "the SMS code expired; connect again")
        try:
            session = self.portal(account).finish_login(tid, text)
        except WrongCode as exc:
            account.reject_sms(meta, str(exc) or "wrong code")
            self.save(account)
            raise ValidationError("code", "the SMS code is not valid") from None
        except (CodeExpired, UnknownTransaction) as exc:
            self._lose(meta, account_id, "expired", str(exc))
            raise ValidationError("code", "the SMS code expired; connect again") from None
        except AccessDenied as exc:
            self._lose(meta, account_id, "blocked", str(exc) or "Access Denied")
            raise ConflictError(
                "the portal's bot protection refused the access (Access Denied)", field="status"
            ) from None
        except PortalError as exc:
            self._lose(meta, account_id, "failed", str(exc))
            raise ConflictError(f"the portal refused the login: {exc}", field="status") from None
        account.connect(meta, secrets.seal(self._key, session.to_json(), account_id))
        account.start_sync(meta, uuid.uuid4().hex)
        log.info("energy_connected", account=account_id, document=mask_document(account.document))
        return Saved(account, self.save(account))

    def _lose(self, meta: Meta, account_id: str, status: str, reason: str) -> None:
        def command() -> None:
            account = self.get_account(meta.tenant_id, account_id)
            account.lose_connection(meta, status, reason)
            self.save(account)

        self.retrying(command)

    def session_of(self, account: EnergyAccount) -> PortalSession:
        if not account.session_sealed:
            raise SessionExpired("no session: connect again")
        return PortalSession.from_json(secrets.unseal(self._key, account.session_sealed, str(account.id)))

    # Sync ------------------------------------------------------------------------------------
    def request_sync(self, meta: Meta, account_id: str) -> tuple[EnergyAccount, bool]:
        """Records SyncStarted (the trigger sends the job); False when one is already running."""

        def command() -> tuple[EnergyAccount, bool]:
            account = self.get_account(meta.tenant_id, account_id)
            if not account.session_valid(meta.at) and account.status == "connected":
                account.lose_connection(meta, "expired", "the portal session is older than 24 hours")
                self.save(account)
                raise ConflictError(
                    "the portal session expired; connect again with a new SMS code", field="status"
                )
            started = account.start_sync(meta, uuid.uuid4().hex)
            if started:
                self.save(account)
            return account, started

        return self.retrying(command)

    def run_sync(self, meta: Meta, account_id: str, run_id: str) -> SyncReport:
        """The body of `energy.sync_account`: units, plants, bills; one UC's failure is recorded
        and the others go on. Does nothing for a run that is not the account's running one."""
        account = self.load(EnergyAccount, account_id, None)
        meta = meta.with_tenant(account.tenant_id)
        if (
            not account.last_sync
            or account.last_sync["run_id"] != run_id
            or account.last_sync["status"] != "running"
        ):
            return SyncReport(status="stale")
        report = SyncReport(status="running")
        try:
            session = self.session_of(account)
            portal = self.portal(account)
            units = portal.list_units(session)
        except (SessionExpired, AccessDenied, PortalError) as exc:
            return self._end(meta, account_id, run_id, report, exc)
        total = len(units)
        self._progress(meta, account_id, run_id, 0, total)
        for done, raw in enumerate(units, 1):
            number = str(raw.get("numeroUc", "?"))
            try:
                self._sync_unit(meta, account_id, portal, session, raw, report)
            except (SessionExpired, AccessDenied) as exc:
                report.units = total
                return self._end(meta, account_id, run_id, report, exc, session=session)
            except Exception as exc:  # one UC failing never stops the others
                log.warning("energy_unit_failed", account=account_id, unit=number, error=type(exc).__name__)
                report.errors.append({"unit": number, "error": str(exc)[:300] or type(exc).__name__})
            self._progress(meta, account_id, run_id, done, total)
        report.units = total
        return self._end(meta, account_id, run_id, report, None, session=session)

    def _sync_unit(
        self,
        meta: Meta,
        account_id: str,
        portal: EnergyPortal,
        session: PortalSession,
        raw: dict[str, Any],
        report: SyncReport,
    ) -> None:
        data = unit_from_portal(raw)
        gd = None
        if data["is_generator"]:
            gd = gd_from_portal(portal.gd_info(session, raw))

        def command() -> ConsumerUnit:
            uid = unit_uuid(meta.tenant_id, account_id, data["company_code"], data["number"])
            unit = self.find(ConsumerUnit, uid)
            if unit is None:
                unit = ConsumerUnit.discover(meta, account_id, data)
            else:
                unit.update(meta, data)
            if gd is not None:
                credit, beneficiaries = gd
                if credit is not None:
                    unit.read_credit(meta, credit)
                unit.set_beneficiaries(meta, beneficiaries)
            self.save(unit)
            return unit

        unit = self.retrying(command)  # saved first: a unit whose bills fail is still listed
        bills = [bill_from_portal(b) for b in portal.list_bills(session, raw)]
        for bill_data, warnings in bills:
            for warning in warnings:
                log.warning("energy_bill_code_dropped", unit=data["number"], warning=warning)
            report.bills += 1
            if self._upsert_bill(meta, account_id, unit, bill_data):
                report.new_bills += 1

    def _upsert_bill(self, meta: Meta, account_id: str, unit: ConsumerUnit, data: dict[str, Any]) -> bool:
        def command() -> bool:
            bid = bill_uuid(meta.tenant_id, str(unit.id), int(data["number"]), data["reference_month"])
            bill = self.find(EnergyBill, bid)
            if bill is None:
                self.save(
                    EnergyBill.import_(
                        meta, account_id=account_id, unit_id=str(unit.id), unit_number=unit.number, data=data
                    )
                )
                return True
            if bill.update(meta, data):
                self.save(bill)
            return False

        return self.retrying(command)

    def _progress(self, meta: Meta, account_id: str, run_id: str, done: int, total: int) -> None:
        def command() -> None:
            account = self.load(EnergyAccount, account_id, meta.tenant_id)
            account.progress(meta, run_id, done, total)
            self.save(account)

        self.retrying(command)

    def _end(
        self,
        meta: Meta,
        account_id: str,
        run_id: str,
        report: SyncReport,
        fatal: Exception | None,
        session: PortalSession | None = None,
    ) -> SyncReport:
        if fatal is not None:
            report.errors.append({"unit": "", "error": str(fatal)[:300] or type(fatal).__name__})

        def command() -> SyncReport:
            account = self.load(EnergyAccount, account_id, meta.tenant_id)
            report.status = account.finish_sync(
                meta,
                run_id,
                units=report.units,
                bills=report.bills,
                new_bills=report.new_bills,
                errors=report.errors,
                fatal=fatal is not None,
            )
            if isinstance(fatal, SessionExpired):
                account.lose_connection(meta, "expired", str(fatal) or "the portal session expired")
            elif isinstance(fatal, AccessDenied):
                account.lose_connection(meta, "blocked", str(fatal) or "Access Denied")
            elif session is not None and session.changed:
                account.refresh_session(meta, secrets.seal(self._key, session.to_json(), account_id))
            self.save(account)
            return report

        return self.retrying(command)

    # Units, bills, PDFs ------------------------------------------------------------------------
    def get_unit(self, tenant_id: str, unit_id: str) -> ConsumerUnit:
        return self.load(ConsumerUnit, unit_id, tenant_id)

    def get_bill(self, tenant_id: str, bill_id: str) -> EnergyBill:
        return self.load(EnergyBill, bill_id, tenant_id)

    def find_version(self, unit_id: uuid.UUID, version: int) -> ConsumerUnit | None:
        found = self.store.get(unit_id, version=version)
        return found if isinstance(found, ConsumerUnit) else None

    def set_beneficiaries(self, meta: Meta, unit_id: str, items: Any) -> Saved:
        def command() -> Saved:
            unit = self.get_unit(meta.tenant_id, unit_id)
            unit.set_beneficiaries(meta, items)
            return Saved(unit, self.save(unit))

        return self.retrying(command)

    def bill_pdf(self, meta: Meta, bill_id: str) -> tuple[bytes, bool]:
        """(PDF bytes, cache hit?): from the content-addressed cache, else fetched once and kept."""
        bill = self.get_bill(meta.tenant_id, bill_id)
        if bill.pdf_sha256:
            try:
                return self.pdfs.read(bill.pdf_sha256), True
            except OSError:
                pass  # the file went missing: fetch again
        account = self.get_account(meta.tenant_id, bill.account_id)
        unit = self.get_unit(meta.tenant_id, bill.unit_id)
        if not account.session_valid(meta.at):
            raise ConflictError(
                "the portal session expired; connect again to download the PDF", field="status"
            )
        raw_unit = {
            "numeroUc": unit.number,
            "digitoVerificador": unit.digit,
            "codigoEmpresaWeb": unit.company_code,
        }
        year, month = bill.reference_month.split("-")
        raw_bill = {"numeroFatura": bill.number, "anoReferencia": int(year), "mesReferencia": int(month)}
        session = self.session_of(account)
        try:
            data = self.portal(account).download_pdf(session, raw_unit, raw_bill)
        except SessionExpired as exc:
            self._lose(meta, str(account.id), "expired", str(exc))
            raise ConflictError("the portal session expired; connect again", field="status") from None
        except PortalError as exc:
            raise ConflictError(f"the portal did not give the PDF: {exc}", field="pdf") from None
        if not data.startswith(b"%PDF"):
            raise ConflictError("the portal answered something that is not a PDF", field="pdf")
        stored = self.pdfs.put(f"fatura_{unit.number}_{bill.reference_month}.pdf", data)

        def command() -> None:
            fresh = self.get_bill(meta.tenant_id, bill_id)
            fresh.cache_pdf(meta, stored["sha256"], len(data))
            self.save(fresh)

        self.retrying(command)
        if session.changed:

            def refresh() -> None:
                acc = self.get_account(meta.tenant_id, str(account.id))
                acc.refresh_session(meta, secrets.seal(self._key, session.to_json(), str(account.id)))
                self.save(acc)

            self.retrying(refresh)
        return data, False

    @staticmethod
    def pdf_digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


def account_view(account: EnergyAccount) -> dict[str, Any]:
    s = account.last_sync
    last_sync = None
    if s:
        last_sync = {
            k: s.get(k)
            for k in (
                "status",
                "started_at",
                "finished_at",
                "done",
                "total",
                "units",
                "bills",
                "new_bills",
                "failed_units",
                "errors",
            )
        }
    return {
        "id": str(account.id),
        "name": account.name,
        "document": account.document,
        "phone_last4": account.phone_last4,
        "distributor": account.distributor,
        "portal": account.portal,
        "customer_id": account.customer_id,
        "status": account.status,
        "status_reason": account.status_reason,
        "transaction_id": account.transaction_id if account.status == "awaiting_sms" else None,
        "sms_expires_at": account.sms_expires_at if account.status == "awaiting_sms" else None,
        "session_expires_at": account.session_expires_at,
        "last_sync": last_sync,
    }


def require_found(value: Any, what: str, ident: str) -> Any:
    if value is None:
        raise NotFoundError(what, ident)
    return value
