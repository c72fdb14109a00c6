"""NFCom commands: settings, drafts, emission, cancellation, dead letters.

Never talks to the authority: emitting records `Nfcom.EmissionRequested` (the number taken from
the series' gap-free `Sequence` in the same save); the dispatcher turns it into a
`fiscal.emit_nfcom` message and the actor reports back through `record`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.fiscal.nfcom.domain import (
    SETTINGS_DEFAULTS,
    Nfcom,
    NfcomSettings,
    clean_settings,
    nfcom_settings_id,
    sequence_name,
)
from retaguarda.fiscal.nfcom.key import random_code
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.fiscal.application import Fiscal


def recipient_of(customer: Any) -> dict[str, Any]:
    """The snapshot an NFCom keeps of its customer (the customer may change later)."""
    address = dict(customer.address or {})
    return {
        "document": customer.document,
        "name": customer.name,
        "email": customer.email or "",
        "kind": customer.kind,
        "status": customer.status,
        "street": address.get("street", ""),
        "number": address.get("number", ""),
        "complement": address.get("complement", ""),
        "district": address.get("district", ""),
        "city": address.get("city", ""),
        "uf": address.get("uf", ""),
        "cep": address.get("cep", ""),
        "municipality_ibge": address.get("ibge_code", ""),
        "phone": customer_phone(customer),
    }


def customer_phone(customer: Any) -> str:
    phones = getattr(customer, "phones", None) or []
    first = phones[0] if phones else ""
    return str(first.get("number", "") if isinstance(first, dict) else first)


class NfcomService(Service):
    """Per-tenant NFCom settings and the NFCom life cycle."""

    def __init__(self, store: Any, on_saved: Any, clock: Any, customers: Any, fiscal: Fiscal) -> None:
        super().__init__(store, on_saved)
        self.clock = clock
        self.customers = customers
        self.fiscal = fiscal

    # Settings ---------------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> NfcomSettings | None:
        return self.find(NfcomSettings, nfcom_settings_id(tenant_id))

    def settings_of(self, tenant_id: str) -> dict[str, Any]:
        """The tenant's NFCom settings, or the defaults (sandbox, homologação) when never saved."""
        found = self.get_settings(tenant_id)
        return dict(found.fields) if found else clean_settings(dict(SETTINGS_DEFAULTS))

    def save_settings(self, meta: Meta, data: dict[str, Any]) -> Saved:
        def command() -> Saved:
            found = self.get_settings(meta.tenant_id)
            if found is None:
                found = NfcomSettings.configure(meta, data)
                return Saved(found, self.save(found))
            diff = found.update(meta, data)
            return Saved(found, self.save(found) if diff else 0)

        return self.retrying(command)

    def _defaults(self, tenant_id: str) -> dict[str, Any]:
        """Settings + the tax-reform rates of the fiscal settings (the draft's preview uses them)."""
        settings = self.settings_of(tenant_id)
        fs = self.fiscal.get_settings(tenant_id)
        if fs is not None:
            settings.update(cbs_rate=fs.cbs_rate, ibs_uf_rate=fs.ibs_uf_rate, ibs_mun_rate=fs.ibs_mun_rate)
        return settings

    def issuer_of(self, tenant_id: str) -> dict[str, Any]:
        fs = self.fiscal.get_settings(tenant_id)
        if fs is None:
            raise ConflictError("configure the fiscal settings (issuer) first", field="settings")
        settings = self.settings_of(tenant_id)
        if not settings.get("state_registration"):
            raise ConflictError(
                "set the issuer's state registration (IE) in the NFCom settings", field="state_registration"
            )
        return {
            **fs.issuer,
            "state_registration": settings["state_registration"],
            "crt": settings["crt"],
            "city": settings.get("city") or "",
        }

    # Drafts -----------------------------------------------------------------------------------
    def _with_recipient(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        customer_id = str(data.get("customer_id") or "")
        if customer_id:
            try:
                customer = self.customers.get_customer(meta.tenant_id, customer_id)
            except (NotFoundError, ValueError):
                raise ValidationError("customer_id", "unknown customer") from None
            out["recipient"] = recipient_of(customer)
        return out

    def create_draft(self, meta: Meta, data: dict[str, Any], nfcom_id: UUID | None = None) -> Saved:
        """A draft NFCom; validation names every offending field, nothing is written on error.
        `nfcom_id`: a deterministic id (one NFCom per invoice across retries), else a new one."""
        defaults = self._defaults(meta.tenant_id)
        nfcom = Nfcom.draft(nfcom_id or uuid.uuid4(), meta, self._with_recipient(meta, data), defaults)
        return Saved(nfcom, self.save(nfcom))

    def correct(self, meta: Meta, nfcom_id: str, data: dict[str, Any]) -> Saved:
        def command() -> Saved:
            nfcom = self.load(Nfcom, nfcom_id, meta.tenant_id)
            changes = self._with_recipient(meta, data) if "customer_id" in data else dict(data)
            diff = nfcom.correct(meta, changes, self._defaults(meta.tenant_id))
            return Saved(nfcom, self.save(nfcom) if diff else 0)

        return self.retrying(command)

    # Life cycle -------------------------------------------------------------------------------
    def emit(self, meta: Meta, nfcom_id: str) -> Saved:
        """First emission takes the series' next number (gap-free, saved with the NFCom); a
        rejected NFCom keeps its number and gets a new random code (a new key)."""

        def command() -> Saved:
            nfcom = self.load(Nfcom, nfcom_id, meta.tenant_id)
            if nfcom.status not in ("draft", "rejected"):
                raise ConflictError(f"only a draft or a rejected NFCom can be sent (it is {nfcom.status})")
            settings = self._defaults(meta.tenant_id)
            issuer = self.issuer_of(meta.tenant_id)
            seq = None
            if nfcom.number is None:
                series = int(settings["series"])
                number, seq = next_number(
                    self, sequence_name(series), meta, start_at=int(settings["next_number"])
                )
            else:
                series, number = int(nfcom.series), int(nfcom.number)
            taxes = {
                k: settings[k]
                for k in (
                    "crt",
                    "icms_rate",
                    "pis_rate",
                    "cofins_rate",
                    "fust_rate",
                    "funttel_rate",
                    "ibscbs",
                    "cbs_rate",
                    "ibs_uf_rate",
                    "ibs_mun_rate",
                )
                if k in settings
            }
            taxes["subscriber_kind"] = settings.get("subscriber_kind", 3)
            taxes["service_type"] = settings.get("service_type", 4)
            taxes["due_days"] = settings.get("due_days", 10)
            nfcom.request_emission(
                meta,
                series=series,
                number=number,
                random_code=random_code(number),
                backend=settings["backend"],
                environment=settings["environment"],
                issuer=issuer,
                taxes=taxes,
            )
            return Saved(nfcom, self.save(nfcom, seq) if seq is not None else self.save(nfcom))

        return self.retrying(command, attempts=50)

    def cancel(self, meta: Meta, nfcom_id: str, reason: Any) -> Saved:
        def command() -> Saved:
            nfcom = self.load(Nfcom, nfcom_id, meta.tenant_id)
            nfcom.request_cancellation(meta, reason)
            return Saved(nfcom, self.save(nfcom))

        return self.retrying(command)

    def retry(self, meta: Meta, nfcom_id: str) -> Saved:
        def command() -> Saved:
            nfcom = self.load(Nfcom, nfcom_id, meta.tenant_id)
            nfcom.retry(meta)
            return Saved(nfcom, self.save(nfcom))

        return self.retrying(command)

    def get(self, tenant_id: str, nfcom_id: str) -> Nfcom:
        return self.load(Nfcom, nfcom_id, tenant_id)

    def invoice_documents(self, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
        """The fiscal documents of a billing invoice (its NFCom for the SCM lines, its NFS-e for the
        SVA lines), for billing's invoice view, page and the customer portal: kind, model, id,
        status, number, access key, protocol and the links to the page, XML and PDF."""
        from retaguarda.fiscal.nfcom.invoicing import nfcom_id_for, nfse_id_for

        docs: list[dict[str, Any]] = []
        nfcom = self.find_nfcom(nfcom_id_for(tenant_id, invoice_id))
        if nfcom is not None and nfcom.tenant_id == tenant_id:
            api = f"/api/v1/fiscal/nfcom/{nfcom.id}"
            printed = nfcom.status in ("authorized", "cancelling", "cancelled", "cancellation_rejected",
                                       "cancellation_failed")
            docs.append({"kind": "nfcom", "model": "62", "id": str(nfcom.id), "status": nfcom.status,
                         "series": nfcom.series, "number": nfcom.number, "access_key": nfcom.access_key,
                         "protocol": nfcom.protocol, "total": dict(nfcom.totals or {}).get("total"),
                         "url": f"/fiscal/nfcom/{nfcom.id}", "xml_url": f"{api}/xml" if printed else None,
                         "pdf_url": f"{api}/danfecom" if printed else None})
        note = self.fiscal.find_note(nfse_id_for(tenant_id, invoice_id))
        if note is not None and note.tenant_id == tenant_id:
            api = f"/api/v1/fiscal/nfse/{note.id}"
            printed = note.status in ("authorized", "cancelling", "cancelled")
            docs.append({"kind": "nfse", "model": "nfse", "id": str(note.id), "status": note.status,
                         "series": None, "number": note.number, "access_key": note.access_key,
                         "protocol": None, "total": getattr(note, "amount", None),
                         "url": f"/fiscal/nfse/{note.id}", "xml_url": f"{api}/xml" if printed else None,
                         "pdf_url": f"{api}/danfse" if printed else None})
        return docs

    # System side (actors): the id came from our own log -----------------------------------------
    def find_nfcom(self, nfcom_id: str | UUID) -> Nfcom | None:
        try:
            return self.find(Nfcom, nfcom_id if isinstance(nfcom_id, UUID) else UUID(str(nfcom_id)))
        except ValueError:
            return None

    # Bulk runs (fiscal.nfcom.bulk) ----------------------------------------------------------------
    def save_bulk(self, run: Any) -> int:
        return self.save(run)

    def find_bulk(self, run_id: str) -> Any:
        from retaguarda.fiscal.nfcom.bulk import NfcomBulkRun

        try:
            return self.find(NfcomBulkRun, UUID(str(run_id)))
        except ValueError:
            return None

    def get_bulk(self, tenant_id: str, run_id: str) -> Any:
        from retaguarda.fiscal.nfcom.bulk import NfcomBulkRun

        return self.load(NfcomBulkRun, run_id, tenant_id)

    def record_bulk(self, run_id: str, job: str, change: Any) -> Saved:
        """Loads the run, applies `change(run, meta)` (False: nothing new), saves."""
        from retaguarda.fiscal.nfcom.bulk import NfcomBulkRun

        def command() -> Saved:
            run = self.load(NfcomBulkRun, run_id, None)
            meta = Meta(tenant_id=run.tenant_id, actor=f"system:{job}", correlation_id=uuid.uuid4().hex,
                        at=self.clock.now())
            changed = change(run, meta)
            return Saved(run, self.save(run) if changed is not False else 0)

        return self.retrying(command)

    def record(self, nfcom_id: str, job: str, change: Any) -> Saved:
        """Loads the NFCom, applies `change(nfcom, meta)` (False when nothing is news), saves."""

        def command() -> Saved:
            nfcom = self.load(Nfcom, nfcom_id, None)
            meta = Meta(
                tenant_id=nfcom.tenant_id,
                actor=f"system:{job}",
                correlation_id=nfcom.correlation_id,
                at=self.clock.now(),
            )
            changed = change(nfcom, meta)
            return Saved(nfcom, self.save(nfcom) if changed is not False else 0)

        return self.retrying(command)
