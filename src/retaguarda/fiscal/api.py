"""JSON API of the fiscal context (`/api/v1/fiscal/...`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from projections.fiscal.fiscal_book import book as book_query
from projections.fiscal.kpis import kpis as kpis_query
from projections.fiscal.nfse_list import find_by_provider_ref, get_note_row, list_calls, list_notes
from projections.fiscal.settings_view import get_certificate_row, get_settings_row, tenant_of_webhook
from retaguarda.fiscal import book as book_export
from retaguarda.fiscal import documents
from retaguarda.fiscal.domain import BACKENDS, STATUSES, compute_taxes, money, rate
from retaguarda.fiscal.schemas import (
    CancelIn,
    NfseIn,
    NfsePatch,
    PreviewIn,
    SettingsIn,
    SettingsPatch,
    merged_settings,
    note_fields,
    settings_fields,
)
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "fiscal:read"}
WRITE = {"permission": "fiscal:write"}
CANCEL = {"permission": "fiscal:cancel"}
SETTINGS = {"permission": "fiscal:settings"}
READ_SETTINGS = {"permission": ("fiscal:read", "fiscal:settings")}
MAX_PFX_BYTES = 64 * 1024


def note_view(row: dict[str, Any], current_backend: str | None = None) -> dict[str, Any]:
    """A note as JSON; `sandbox` is true when it went (or, as a draft, will go) to the sandbox."""
    view = jsonable(row)
    view["sandbox"] = (row.get("backend") or current_backend) == "sandbox"
    view["dead_letter"] = row["status"] in ("failed", "cancellation_failed")
    return view


def _current_backend(conn: Any, tenant_id: str) -> str | None:
    row = get_settings_row(conn, tenant_id)
    return row["backend"] if row else None


def _note(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_note_row(conn, p.tenant_id, note_id)
        if row is None:
            raise NotFoundError("Nfse", note_id)
        return note_view(row, _current_backend(conn, p.tenant_id))


def settings_view(container: Container, tenant_id: str, *, with_secrets_meta: bool) -> dict[str, Any]:
    with tenant_reader(container.engine, tenant_id) as conn:
        row = get_settings_row(conn, tenant_id)
        cert = get_certificate_row(conn, tenant_id)
    if row is None:
        raise NotFoundError("FiscalSettings", tenant_id)
    view = jsonable(row)
    view["credentials_set"] = {k: k in (row["credentials_set"] or [])
                               for k in ("focus_token", "focus_token_producao", "plugnotas_api_key")}
    view["certificate"] = jsonable(cert) if cert else None
    if with_secrets_meta:
        fs = container.fiscal.get_settings(tenant_id)
        view["webhook_url"] = (f"{container.settings.base_url}/api/v1/fiscal/webhooks/{fs.backend}/"
                               f"{fs.webhook_token}")
    return view


# Settings and certificate ----------------------------------------------------------------------

@get("/fiscal/settings", opt=READ_SETTINGS, sync_to_thread=True, summary="Fiscal settings (no secrets)")
def read_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    return settings_view(container_of(request), p.tenant_id, with_secrets_meta=p.can("fiscal:settings"))


@put("/fiscal/settings", opt=SETTINGS, sync_to_thread=True, summary="Configure fiscal settings")
def write_settings(request: Request[Any, Any, Any], data: SettingsIn) -> dict[str, Any]:
    fields, credentials = settings_fields(data)
    container = container_of(request)
    container.fiscal.save_settings(meta_of(request), fields, credentials)
    return settings_view(container, require_principal(request).tenant_id, with_secrets_meta=True)


@patch("/fiscal/settings", opt=SETTINGS, sync_to_thread=True,
       summary="Change some fiscal settings (the others stay as they are)")
def patch_settings(request: Request[Any, Any, Any], data: SettingsPatch) -> dict[str, Any]:
    container = container_of(request)
    meta = meta_of(request)
    current = container.fiscal.require_settings(meta.tenant_id)
    container.fiscal.save_settings(meta, merged_settings(current, data))
    return settings_view(container, meta.tenant_id, with_secrets_meta=True)


@post("/fiscal/certificate", opt=SETTINGS, sync_to_thread=True, status_code=201,
      summary="Upload the A1 certificate (multipart: file, password)")
def upload_certificate(request: Request[Any, Any, Any],
                       data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
                       ) -> dict[str, Any]:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationError("file", "send the .pfx/.p12 as multipart/form-data field `file`")
    content = upload.file.read(MAX_PFX_BYTES + 1)
    if len(content) > MAX_PFX_BYTES:
        raise ValidationError("file", "an A1 certificate file is at most 64 KiB")
    container = container_of(request)
    container.fiscal.upload_certificate(meta_of(request), content, str(data.get("password") or ""))
    with tenant_reader(container.engine, require_principal(request).tenant_id) as conn:
        return jsonable(get_certificate_row(conn, require_principal(request).tenant_id))


@post("/fiscal/test-connection", opt=SETTINGS, sync_to_thread=True, status_code=200,
      summary="A harmless authenticated call to the chosen backend")
def test_connection(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return jsonable(documents.test_connection(container_of(request), require_principal(request).tenant_id))


@post("/fiscal/register-webhook", opt=SETTINGS, sync_to_thread=True, status_code=200,
      summary="Register our webhook URL at the async gateway (Focus NFe, PlugNotas)")
def register_webhook(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return jsonable(documents.register_webhook(container_of(request), require_principal(request).tenant_id))


# Notes ------------------------------------------------------------------------------------------

@post("/fiscal/nfse", opt=WRITE, sync_to_thread=True, status_code=201, summary="Draft an NFS-e")
def create_note(request: Request[Any, Any, Any], data: NfseIn) -> Response[dict[str, Any]]:
    saved = container_of(request).fiscal.create_draft(meta_of(request), note_fields(data))
    note_id = str(saved.aggregate.id)
    return Response(_note(request, note_id), status_code=201,
                    headers={"Location": f"/api/v1/fiscal/nfse/{note_id}"})


@get("/fiscal/nfse", opt=READ, sync_to_thread=True, summary="List NFS-e")
def list_(request: Request[Any, Any, Any], status: str = "", competence: str = "", customer: str = "",
          page: int = Parameter(default=1, ge=1),
          per_page: int = Parameter(default=20, ge=1, le=200)) -> dict[str, Any]:
    if status and status not in STATUSES and status != "dead_letter":
        raise ValidationError("status", f"status must be one of {', '.join(STATUSES)} or dead_letter")
    if competence:
        _competence_filter(competence)
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_notes(conn, p.tenant_id, status=status, competence=competence, customer=customer,
                            page=page, per_page=per_page)
        backend = _current_backend(conn, p.tenant_id)
    result["items"] = [note_view(r, backend) for r in result["items"]]
    return result


def _competence_filter(value: str) -> None:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])(-\d{2})?", value.strip()):
        raise ValidationError("competence", "competence must be YYYY-MM or YYYY-MM-DD")


@get("/fiscal/nfse/{note_id:str}", opt=READ, sync_to_thread=True, summary="One NFS-e")
def read_note(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    return _note(request, note_id)


@patch("/fiscal/nfse/{note_id:str}", opt=WRITE, sync_to_thread=True, summary="Correct a draft/rejected NFS-e")
def correct_note(request: Request[Any, Any, Any], note_id: str, data: NfsePatch) -> dict[str, Any]:
    fields = note_fields(data)
    if not fields:
        raise ValidationError("body", "send at least one field to change")
    container_of(request).fiscal.correct_note(meta_of(request), note_id, fields)
    return _note(request, note_id)


@post("/fiscal/nfse/{note_id:str}/emit", opt=WRITE, sync_to_thread=True, status_code=202,
      summary="Send the note to the authority (asynchronous)")
def emit(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    container_of(request).fiscal.emit(meta_of(request), note_id)
    return _note(request, note_id)


@post("/fiscal/nfse/{note_id:str}/cancel", opt=CANCEL, sync_to_thread=True, status_code=202,
      summary="Cancel an authorized note (reason code 1, 2 or 9 and a reason)")
def cancel(request: Request[Any, Any, Any], note_id: str, data: CancelIn) -> dict[str, Any]:
    container_of(request).fiscal.cancel(meta_of(request), note_id, data.reason_code, data.reason)
    return _note(request, note_id)


@post("/fiscal/nfse/{note_id:str}/retry", opt=WRITE, sync_to_thread=True, status_code=202,
      summary="Retry a failed emission or cancellation (dead letter)")
def retry(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    container_of(request).fiscal.retry(meta_of(request), note_id)
    return _note(request, note_id)


def _xml(request: Request[Any, Any, Any], note_id: str, which: str, filename: str) -> Response[bytes]:
    p = require_principal(request)
    text = documents.note_xml(container_of(request), p.tenant_id, note_id, which)
    return Response(text.encode("utf-8"), media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"})


@get("/fiscal/nfse/{note_id:str}/xml", opt=READ, sync_to_thread=True, summary="Authorized NFS-e XML")
def nfse_xml(request: Request[Any, Any, Any], note_id: str) -> Response[bytes]:
    return _xml(request, note_id, "xml", f"nfse-{note_id}.xml")


@get("/fiscal/nfse/{note_id:str}/dps", opt=READ, sync_to_thread=True, summary="The signed DPS as sent")
def dps_xml(request: Request[Any, Any, Any], note_id: str) -> Response[bytes]:
    return _xml(request, note_id, "dps", f"dps-{note_id}.xml")


@get("/fiscal/nfse/{note_id:str}/cancellation", opt=READ, sync_to_thread=True,
     summary="The cancellation event XML")
def cancellation_xml(request: Request[Any, Any, Any], note_id: str) -> Response[bytes]:
    return _xml(request, note_id, "event", f"cancelamento-{note_id}.xml")


@get("/fiscal/nfse/{note_id:str}/danfse", opt=READ, sync_to_thread=True, summary="DANFSe (PDF)")
def danfse(request: Request[Any, Any, Any], note_id: str, download: bool = False) -> Response[bytes]:
    p = require_principal(request)
    pdf, source = documents.danfse(container_of(request), p.tenant_id, note_id)
    disposition = "attachment" if download else "inline"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="danfse-{note_id}.pdf"',
        "X-Danfse-Source": source, "Cache-Control": "private, no-store"})


@get("/fiscal/nfse/{note_id:str}/calls", opt=READ, sync_to_thread=True,
     summary="Integration log: every provider call for this note")
def calls(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    p = require_principal(request)
    _note(request, note_id)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return {"items": jsonable(list_calls(conn, p.tenant_id, note_id))}


@post("/fiscal/preview", opt=READ, sync_to_thread=True, status_code=200,
      summary="Tax preview (ISS, CBS, IBS) of a draft's amounts")
def preview(request: Request[Any, Any, Any], data: PreviewIn) -> dict[str, Any]:
    p = require_principal(request)
    fs = container_of(request).fiscal.require_settings(p.tenant_id)
    return jsonable(preview_taxes(fs, data.amount, data.deductions, data.iss_rate, data.iss_withheld))


def preview_taxes(fs: Any, amount: Any, deductions: Any, iss_rate: Any, iss_withheld: bool) -> dict[str, Any]:
    value = money(amount, "amount")
    ded = money(deductions if deductions not in (None, "") else "0", "deductions", allow_zero=True)
    if ded > value:
        raise ValidationError("deductions", "deductions cannot exceed the amount")
    iss = rate(iss_rate if iss_rate not in (None, "") else fs.default_service.get("iss_rate", "0"),
               "iss_rate", maximum=Decimal("5"))
    taxes = compute_taxes(value, ded, iss, bool(iss_withheld), fs.cbs_rate, fs.ibs_uf_rate, fs.ibs_mun_rate)
    return {"amount": value, "deductions": ded, "iss_rate": iss, "iss_withheld": bool(iss_withheld), **taxes}


# Fiscal book and KPIs -----------------------------------------------------------------------------

@get("/fiscal/book", opt=READ, sync_to_thread=True, summary="Fiscal book of services for a month")
def fiscal_book(request: Request[Any, Any, Any], competence: str = "") -> dict[str, Any]:
    p = require_principal(request)
    month = documents.validate_competence(competence)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(full_book(conn, p.tenant_id, month))


@get("/fiscal/book/export", opt=READ, sync_to_thread=True,
     summary="Fiscal book export (format=csv|xlsx|pdf)")
def fiscal_book_export(request: Request[Any, Any, Any], competence: str = "",
                       format: str = "csv") -> Response[bytes]:
    return book_export_response(request, competence, format)


def full_book(conn: Any, tenant_id: str, month: str) -> dict[str, Any]:
    """The fiscal book of a month: NFS-e (`items`, `totals`) and, under `nfcom`, the NFCom (model 62)
    with their ICMS, PIS, COFINS, FUST and FUNTTEL totals."""
    from projections.fiscal.nfcom_list import nfcom_book

    doc = book_query(conn, tenant_id, month)
    doc["nfcom"] = nfcom_book(conn, tenant_id, month)
    return doc


def book_export_response(request: Request[Any, Any, Any], competence: str, format: str) -> Response[bytes]:
    p = require_principal(request)
    month = documents.validate_competence(competence)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        doc = full_book(conn, p.tenant_id, month)
        settings_row = get_settings_row(conn, p.tenant_id)
    issuer = (settings_row or {}).get("issuer") or {}
    if format == "csv":
        body, media = book_export.to_csv(doc), "text/csv"
    elif format == "xlsx":
        body = book_export.to_xlsx(doc)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif format == "pdf":
        body, media = book_export.to_pdf(doc, f"{issuer.get('name', '')} - CNPJ {issuer.get('cnpj', '')}"), \
            "application/pdf"
    else:
        raise ValidationError("format", "format must be csv, xlsx or pdf")
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="livro-fiscal-{month}.{format}"'})


@get("/fiscal/kpis", opt=READ, sync_to_thread=True, summary="Fiscal KPIs (this month and 12 months)")
def kpis(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable(kpis_query(conn, p.tenant_id, container.clock.now()))


# Webhooks -------------------------------------------------------------------------------------------

_REF_KEYS = ("ref", "idIntegracao", "id_integracao", "reference", "id", "protocol", "protocolo")


def _refs(body: Any) -> list[str]:
    found: list[str] = []
    if isinstance(body, dict):
        for key in _REF_KEYS:
            value = body.get(key)
            if isinstance(value, (str, int)) and str(value).strip():
                found.append(str(value).strip())
        for value in body.values():
            if isinstance(value, (dict, list)):
                found.extend(_refs(value))
    elif isinstance(body, list):
        for item in body[:20]:
            found.extend(_refs(item))
    return found


@post("/fiscal/webhooks/{backend:str}/{token:str}", opt={"public": True}, status_code=202,
      summary="Provider webhook: only triggers a consult of the provider")
async def webhook(request: Request[Any, Any, Any], backend: str, token: str) -> dict[str, Any]:
    """Never trusted alone: it names a note, and we ask the provider where that note stands.
    Duplicates and out-of-order deliveries are harmless (a known outcome records nothing)."""
    import anyio

    body = await request.body()
    return await anyio.to_thread.run_sync(_webhook, container_of(request), backend, token, body)


def _webhook(container: Container, backend: str, token: str, body: bytes) -> dict[str, Any]:
    from retaguarda.fiscal.actors import CONSULT, note_id_from_ref

    if backend not in BACKENDS:
        raise NotFoundError("Webhook", backend)
    with container.engine.connect() as conn:
        tenant_id = tenant_of_webhook(conn, token)
    if tenant_id is None:
        raise NotFoundError("Webhook", backend)
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = {}
    note_id = None
    with tenant_reader(container.engine, tenant_id) as conn:
        for ref in _refs(payload):
            candidate = note_id_from_ref(ref)
            try:
                UUID(candidate)
            except ValueError:
                candidate = ""
            if candidate and get_note_row(conn, tenant_id, candidate):
                note_id = candidate
                break
            found = find_by_provider_ref(conn, tenant_id, ref)
            if found:
                note_id = found
                break
    if note_id is None:
        return {"accepted": False, "reason": "no note of this tenant matches the webhook"}
    text = (body or b"")[:4000].decode("utf-8", "replace")
    call = {"operation": "webhook", "method": "POST", "url": f"/api/v1/fiscal/webhooks/{backend}/***",
            "request": text, "status": 202, "response": "consult scheduled", "duration_ms": 0,
            "started_at": datetime.now(timezone.utc).isoformat(), "error": None}
    container.fiscal.record(note_id, "fiscal.webhook", lambda n, m: n.record_calls(m, "webhook", [call]))
    container.broker.get_actor(CONSULT).send_with_options(args=(note_id, 0))
    return {"accepted": True, "nfse_id": note_id}


routes = [
    read_settings, write_settings, patch_settings, upload_certificate, test_connection, register_webhook,
    create_note, list_, read_note, correct_note, emit, cancel, retry, nfse_xml, dps_xml, cancellation_xml,
    danfse, calls, preview, fiscal_book, fiscal_book_export, kpis, webhook,
]

from retaguarda.fiscal.nfcom.api import routes as _nfcom_routes  # noqa: E402  (NFCom, model 62)

routes += _nfcom_routes
