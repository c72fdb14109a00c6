"""Fiscal commands: settings, certificate, NFS-e drafts, emission, cancellation, dead letters.

Never talks to a provider: emitting records `Nfse.EmissionRequested` (with the DPS number taken
from the series' gap-free sequence in the same save); the dispatcher turns it into a
`fiscal.emit_nfse` message and the actor reports back through the `record_*` methods below.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

from retaguarda.fiscal.domain import (
    CREDENTIAL_KEYS,
    Certificate,
    FiscalSettings,
    Nfse,
    certificate_id,
    settings_id,
)
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number


def dps_sequence_name(series: str) -> str:
    return f"fiscal:dps:{series}"


def tomador_of(customer: Any) -> dict[str, Any]:
    """The tomador snapshot a note keeps (the customer may change later; the note must not)."""
    address = dict(customer.address or {})
    return {
        "document": customer.document, "name": customer.name, "email": customer.email,
        "kind": customer.kind, "status": customer.status,
        "street": address.get("street", ""), "number": address.get("number", ""),
        "complement": address.get("complement", ""), "district": address.get("district", ""),
        "city": address.get("city", ""), "uf": address.get("uf", ""), "cep": address.get("cep", ""),
        "municipality_ibge": address.get("ibge_code", ""),
    }


class Fiscal(Service):
    """Per-tenant fiscal settings, the A1 certificate and the NFS-e life cycle."""

    def __init__(self, store: Any, on_saved: Any, clock: Any, customers: Any) -> None:
        super().__init__(store, on_saved)
        self.clock = clock
        self.customers = customers

    # Settings ----------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> FiscalSettings | None:
        return self.find(FiscalSettings, settings_id(tenant_id))

    def require_settings(self, tenant_id: str) -> FiscalSettings:
        found = self.get_settings(tenant_id)
        if found is None:
            raise ConflictError("configure the fiscal settings first (PUT /api/v1/fiscal/settings)",
                                field="settings")
        return found

    def save_settings(self, meta: Meta, data: dict[str, Any],
                      credentials: dict[str, Any] | None = None) -> Saved:
        """Creates or replaces the settings; credentials given (non-empty) are set, others kept."""
        if credentials:
            unknown = set(credentials) - set(CREDENTIAL_KEYS)
            if unknown:
                raise ValidationError(f"credentials.{sorted(unknown)[0]}", "unknown credential")

        def command() -> Saved:
            existing = self.get_settings(meta.tenant_id)
            if existing is None:
                fs = FiscalSettings.configure(meta, data, secrets.token_urlsafe(32))
            else:
                fs = existing
                fs.update(meta, data)
            if credentials:
                fs.set_credentials(meta, {k: v for k, v in credentials.items() if v})
            return Saved(fs, self.save(fs))

        return self.retrying(command)

    def remove_credential(self, meta: Meta, key: str) -> Saved:
        def command() -> Saved:
            fs = self.require_settings(meta.tenant_id)
            fs.set_credentials(meta, {key: ""})
            return Saved(fs, self.save(fs))

        return self.retrying(command)

    def rotate_webhook_token(self, meta: Meta) -> Saved:
        def command() -> Saved:
            fs = self.require_settings(meta.tenant_id)
            fs.rotate_webhook_token(meta, secrets.token_urlsafe(32))
            return Saved(fs, self.save(fs))

        return self.retrying(command)

    # Certificate ---------------------------------------------------------------------------
    def upload_certificate(self, meta: Meta, data: bytes, password: str) -> Saved:
        """Parses and checks the A1; refuses a wrong password, expiry, no key, another CNPJ."""
        from retaguarda.fiscal.certificates import CertificateError, load_pkcs12

        fs = self.require_settings(meta.tenant_id)
        try:
            a1 = load_pkcs12(data, password, expected_cnpj=fs.issuer["cnpj"], now=meta.at)
        except CertificateError as exc:
            field = "password" if exc.code == "wrong_password" else "certificate"
            raise ValidationError(field, exc.message) from None
        fields = dict(secret_pfx=base64.b64encode(data).decode(), password=password,
                      subject=a1.subject, cnpj=a1.cnpj or "", issuer=a1.issuer,
                      serial_number=a1.serial_number, valid_from=a1.not_before,
                      valid_until=a1.not_after)

        def command() -> Saved:
            cert = self.find(Certificate, certificate_id(meta.tenant_id))
            if cert is None:
                cert = Certificate.upload(meta, **fields)
            else:
                cert.replace(meta, **fields)
            return Saved(cert, self.save(cert))

        return self.retrying(command)

    def get_certificate(self, tenant_id: str) -> Certificate | None:
        return self.find(Certificate, certificate_id(tenant_id))

    def a1_of(self, tenant_id: str) -> Any:
        """The parsed A1 (key in memory only), or None when the tenant uploaded none."""
        from retaguarda.fiscal.certificates import load_pkcs12

        cert = self.get_certificate(tenant_id)
        if cert is None:
            return None
        return load_pkcs12(base64.b64decode(cert.secret_pfx), cert.password,
                           now=min(self.clock.now(), cert.valid_until))

    def check_certificate(self, tenant_id: str, job: str = "fiscal.check_certificates") -> str | None:
        """Records CertificateExpiring/CertificateExpired when due; returns what was recorded."""
        def command() -> tuple[str | None, int]:
            cert = self.get_certificate(tenant_id)
            if cert is None:
                return None, 0
            meta = Meta(tenant_id=tenant_id, actor=f"system:{job}",
                        correlation_id=uuid.uuid4().hex, at=self.clock.now())
            what = cert.check_expiry(meta)
            return what, (self.save(cert) if what else 0)

        return self.retrying(command)[0]

    # Notes -----------------------------------------------------------------------------------
    def _rates(self, fs: FiscalSettings) -> dict[str, Decimal]:
        return {"cbs_rate": fs.cbs_rate, "ibs_uf_rate": fs.ibs_uf_rate, "ibs_mun_rate": fs.ibs_mun_rate}

    def _note_data(self, meta: Meta, fs: FiscalSettings, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        if "customer_id" in data:
            customer_id = str(data.get("customer_id") or "")
            try:
                customer = self.customers.get_customer(meta.tenant_id, customer_id)
            except NotFoundError:
                raise ValidationError("customer_id", "unknown customer") from None
            out["tomador"] = tomador_of(customer)
        service = data.get("service")
        if isinstance(service, dict):
            defaults = fs.default_service
            out["service"] = {"code": service.get("code", defaults.get("code")),
                              "nbs": service.get("nbs", defaults.get("nbs")),
                              "description": service.get("description", defaults.get("description"))}
        return out

    def create_draft(self, meta: Meta, data: dict[str, Any], *, note_id: UUID | None = None) -> Saved:
        """A draft note for a customer (the tomador); validation names the field. `note_id`
        (optional) lets a process manager ask for one note exactly once: a second draft with the
        same id conflicts (IntegrityError) instead of creating another note."""
        fs = self.require_settings(meta.tenant_id)
        defaults = fs.default_service
        full = {"service": dict(defaults), "iss_rate": defaults.get("iss_rate"),
                "iss_withheld": defaults.get("iss_withheld", False), "deductions": "0",
                "municipality_ibge": fs.issuer["municipality_ibge"], "competence": meta.at.date(),
                **{k: v for k, v in data.items() if v is not None}}
        if "customer_id" not in data or not data.get("customer_id"):
            raise ValidationError("customer_id", "customer_id is required")
        note = Nfse.draft(note_id or uuid.uuid4(), meta, self._note_data(meta, fs, full), self._rates(fs))
        return Saved(note, self.save(note))

    def correct_note(self, meta: Meta, note_id: str, data: dict[str, Any]) -> Saved:
        def command() -> Saved:
            fs = self.require_settings(meta.tenant_id)
            note = self.load(Nfse, note_id, meta.tenant_id)
            if note.status not in ("draft", "rejected"):
                raise ConflictError(f"only a draft or a rejected note can be corrected (it is {note.status})")
            changes = dict(data)
            if isinstance(changes.get("service"), dict):
                changes["service"] = {**note.service, **changes["service"]}
            diff = note.correct(meta, self._note_data(meta, fs, changes), self._rates(fs))
            return Saved(note, self.save(note) if diff else 0)

        return self.retrying(command)

    def emit(self, meta: Meta, note_id: str) -> Saved:
        """Takes the next DPS number of the series (gap-free: saved with the note) and asks the
        worker to issue it. Two concurrent emissions conflict on the sequence; the loser retries."""
        def command() -> Saved:
            note = self.load(Nfse, note_id, meta.tenant_id)
            if note.status not in ("draft", "rejected"):
                raise ConflictError(f"only a draft or a rejected note can be sent (it is {note.status})")
            fs = self.require_settings(meta.tenant_id)
            number, seq = next_number(self, dps_sequence_name(fs.series), meta, start_at=fs.next_number)
            note.request_emission(meta, series=fs.series, dps_number=number, backend=fs.backend,
                                  environment=fs.environment, issuer=fs.issuer)
            return Saved(note, self.save(note, seq))

        return self.retrying(command, attempts=50)

    def cancel(self, meta: Meta, note_id: str, reason_code: Any, reason: Any) -> Saved:
        def command() -> Saved:
            note = self.load(Nfse, note_id, meta.tenant_id)
            note.request_cancellation(meta, reason_code, reason)
            return Saved(note, self.save(note))

        return self.retrying(command)

    def retry(self, meta: Meta, note_id: str) -> Saved:
        def command() -> Saved:
            note = self.load(Nfse, note_id, meta.tenant_id)
            note.retry(meta)
            return Saved(note, self.save(note))

        return self.retrying(command)

    def get_note(self, tenant_id: str, note_id: str) -> Nfse:
        return self.load(Nfse, note_id, tenant_id)

    # System side (actors): the id came from our own log --------------------------------------
    def find_note(self, note_id: str | UUID) -> Nfse | None:
        try:
            return self.find(Nfse, note_id if isinstance(note_id, UUID) else UUID(str(note_id)))
        except ValueError:
            return None

    def record(self, note_id: str, job: str, change: Any) -> Saved:
        """Loads the note, applies `change(note, meta)` (returns False when nothing is news), saves."""
        def command() -> Saved:
            note = self.load(Nfse, note_id, None)
            meta = Meta(tenant_id=note.tenant_id, actor=f"system:{job}",
                        correlation_id=note.correlation_id, at=self.clock.now())
            changed = change(note, meta)
            return Saved(note, self.save(note) if changed is not False else 0)

        return self.retrying(command)

    def system_meta(self, tenant_id: str, job: str) -> Meta:
        return Meta(tenant_id=tenant_id, actor=f"system:{job}", correlation_id=uuid.uuid4().hex,
                    at=self.clock.now())
