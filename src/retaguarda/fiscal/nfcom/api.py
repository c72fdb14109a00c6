"""JSON API of NFCom (`/api/v1/fiscal/nfcom...`): drafts, emission, cancellation, XML, DANFE-COM,
integration log, the NFCom fiscal book and the NFCom settings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request, Response, get, patch, post, put
from litestar.params import Parameter

from projections.fiscal.nfcom_list import get_nfcom_row, list_nfcom, list_nfcom_calls, nfcom_book
from retaguarda.fiscal.nfcom.domain import STATUSES
from retaguarda.fiscal.nfcom.schemas import CancelIn, NfcomIn, NfcomPatch, NfcomSettingsIn, fields
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "fiscal:read"}
WRITE = {"permission": "fiscal:write"}
CANCEL = {"permission": "fiscal:cancel"}
SETTINGS = {"permission": "fiscal:settings"}
READ_SETTINGS = {"permission": ("fiscal:read", "fiscal:settings")}


def nfcom_view(row: dict[str, Any]) -> dict[str, Any]:
    view = jsonable(row)
    view["sandbox"] = row.get("backend") in (None, "sandbox") and row.get("environment") != "producao"
    view["xml_url"] = f"/api/v1/fiscal/nfcom/{row['id']}/xml" if row.get("access_key") else None
    view["danfecom_url"] = f"/api/v1/fiscal/nfcom/{row['id']}/danfecom" if row.get("protocol") else None
    return view


def read_row(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_nfcom_row(conn, p.tenant_id, nfcom_id)
    if row is None:
        raise NotFoundError("Nfcom", nfcom_id)
    return row


@post("/fiscal/nfcom", opt=WRITE, sync_to_thread=True, status_code=201, summary="Draft an NFCom (model 62)")
def create_nfcom(request: Request[Any, Any, Any], data: NfcomIn) -> Response[dict[str, Any]]:
    saved = container_of(request).nfcom.create_draft(meta_of(request), fields(data))
    nfcom_id = str(saved.aggregate.id)
    return Response(
        nfcom_view(read_row(request, nfcom_id)),
        status_code=201,
        headers={"Location": f"/api/v1/fiscal/nfcom/{nfcom_id}"},
    )


@get("/fiscal/nfcom", opt=READ, sync_to_thread=True, summary="List NFCom")
def list_nfcoms(
    request: Request[Any, Any, Any],
    status: str = "",
    competence: str = "",
    customer: str = "",
    invoice_id: str = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    if status and status not in STATUSES and status != "dead_letter":
        raise ValidationError("status", f"status must be one of {', '.join(STATUSES)} or dead_letter")
    if competence and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", competence.strip()):
        raise ValidationError("competence", "competence must be YYYY-MM")
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_nfcom(
            conn,
            p.tenant_id,
            status=status,
            competence=competence.strip(),
            customer=customer,
            invoice_id=invoice_id,
            page=page,
            per_page=per_page,
        )
    result["items"] = [nfcom_view(r) for r in result["items"]]
    return result


@get(
    "/fiscal/nfcom/book",
    opt=READ,
    sync_to_thread=True,
    summary="NFCom part of the fiscal book for a competence (ICMS, FUST, FUNTTEL totals)",
)
def nfcom_book_api(request: Request[Any, Any, Any], competence: str = "") -> dict[str, Any]:
    month = competence.strip()[:7]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValidationError("competence", "competence must be YYYY-MM")
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        book = nfcom_book(conn, p.tenant_id, month)
    book["items"] = [nfcom_view(r) for r in book["items"]]
    return jsonable(book)


def book_export_response(container: Container, tenant_id: str, competence: str, format: str) -> Response[bytes]:
    from retaguarda.fiscal.nfcom import book as exports

    month = competence.strip()[:7]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValidationError("competence", "competence must be YYYY-MM")
    if format not in ("csv", "xlsx", "pdf"):
        raise ValidationError("format", "format must be csv, xlsx or pdf")
    with tenant_reader(container.engine, tenant_id) as conn:
        doc = nfcom_book(conn, tenant_id, month)
    fs = container.fiscal.get_settings(tenant_id)
    issuer = f"{fs.issuer['name']} - CNPJ {fs.issuer['cnpj']}" if fs else ""
    body, media = {
        "csv": (exports.to_csv(doc), "text/csv; charset=utf-8"),
        "xlsx": (exports.to_xlsx(doc), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "pdf": (exports.to_pdf(doc, issuer), "application/pdf"),
    }[format]
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="livro-nfcom-{month}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/fiscal/nfcom/book/export",
    opt=READ,
    sync_to_thread=True,
    summary="NFCom fiscal book of a competence as CSV, XLSX or PDF",
)
def nfcom_book_export(
    request: Request[Any, Any, Any], competence: str = "", format: str = "csv"
) -> Response[bytes]:
    p = require_principal(request)
    return book_export_response(container_of(request), p.tenant_id, competence, format)


@get("/fiscal/nfcom/settings", opt=READ_SETTINGS, sync_to_thread=True, summary="NFCom settings")
def read_nfcom_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    return jsonable(container_of(request).nfcom.settings_of(p.tenant_id))


@put("/fiscal/nfcom/settings", opt=SETTINGS, sync_to_thread=True, summary="Configure NFCom")
def write_nfcom_settings(request: Request[Any, Any, Any], data: NfcomSettingsIn) -> dict[str, Any]:
    container = container_of(request)
    container.nfcom.save_settings(meta_of(request), fields(data))
    return jsonable(container.nfcom.settings_of(require_principal(request).tenant_id))


@get("/fiscal/nfcom/{nfcom_id:str}", opt=READ, sync_to_thread=True, summary="One NFCom")
def read_nfcom(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    return nfcom_view(read_row(request, nfcom_id))


@patch(
    "/fiscal/nfcom/{nfcom_id:str}", opt=WRITE, sync_to_thread=True, summary="Correct a draft/rejected NFCom"
)
def correct_nfcom(request: Request[Any, Any, Any], nfcom_id: str, data: NfcomPatch) -> dict[str, Any]:
    changes = fields(data)
    if not changes:
        raise ValidationError("body", "send at least one field to change")
    container_of(request).nfcom.correct(meta_of(request), nfcom_id, changes)
    return nfcom_view(read_row(request, nfcom_id))


@post(
    "/fiscal/nfcom/{nfcom_id:str}/emit",
    opt=WRITE,
    sync_to_thread=True,
    status_code=202,
    summary="Send the NFCom to the authority (asynchronous)",
)
def emit_nfcom(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    container_of(request).nfcom.emit(meta_of(request), nfcom_id)
    return nfcom_view(read_row(request, nfcom_id))


@post(
    "/fiscal/nfcom/{nfcom_id:str}/cancel",
    opt=CANCEL,
    sync_to_thread=True,
    status_code=202,
    summary="Cancel an authorized NFCom (event 110111; reason 15-255 characters)",
)
def cancel_nfcom(request: Request[Any, Any, Any], nfcom_id: str, data: CancelIn) -> dict[str, Any]:
    container_of(request).nfcom.cancel(meta_of(request), nfcom_id, data.reason)
    return nfcom_view(read_row(request, nfcom_id))


@post(
    "/fiscal/nfcom/{nfcom_id:str}/retry",
    opt=WRITE,
    sync_to_thread=True,
    status_code=202,
    summary="Retry a failed emission or cancellation (dead letter)",
)
def retry_nfcom(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    container_of(request).nfcom.retry(meta_of(request), nfcom_id)
    return nfcom_view(read_row(request, nfcom_id))


def document_xml(container: Container, tenant_id: str, nfcom_id: str, which: str = "nfcom") -> str:
    n = container.nfcom.get(tenant_id, nfcom_id)
    if which == "cancellation":
        if not n.cancel_event_xml:
            raise ConflictError("this NFCom has no cancellation event", field="status")
        return str(n.cancel_event_xml)
    text = n.proc_xml or n.xml
    if not text:
        raise ConflictError(f"this NFCom has no XML yet (it is {n.status})", field="status")
    return str(text)


@get(
    "/fiscal/nfcom/{nfcom_id:str}/xml",
    opt=READ,
    sync_to_thread=True,
    summary="The signed NFCom (nfcomProc with the protocol once authorized)",
)
def nfcom_xml(request: Request[Any, Any, Any], nfcom_id: str) -> Response[bytes]:
    p = require_principal(request)
    text = document_xml(container_of(request), p.tenant_id, nfcom_id)
    return Response(
        text.encode("utf-8"),
        media_type="application/xml",
        headers={
            "Content-Disposition": f'inline; filename="nfcom-{nfcom_id}.xml"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/fiscal/nfcom/{nfcom_id:str}/cancellation",
    opt=READ,
    sync_to_thread=True,
    summary="The cancellation event (procEventoNFCom)",
)
def nfcom_cancellation_xml(request: Request[Any, Any, Any], nfcom_id: str) -> Response[bytes]:
    p = require_principal(request)
    text = document_xml(container_of(request), p.tenant_id, nfcom_id, "cancellation")
    return Response(
        text.encode("utf-8"),
        media_type="application/xml",
        headers={
            "Content-Disposition": f'inline; filename="nfcom-cancelamento-{nfcom_id}.xml"',
            "Cache-Control": "private, no-store",
        },
    )


def danfecom_pdf(container: Container, tenant_id: str, nfcom_id: str) -> bytes:
    from retaguarda.fiscal.nfcom.danfecom import render_danfecom

    n = container.nfcom.get(tenant_id, nfcom_id)
    if not n.protocol or not (n.proc_xml or n.xml):
        raise ConflictError(
            f"the DANFE-COM exists once the NFCom is authorized (it is {n.status})", field="status"
        )
    return render_danfecom(
        n.proc_xml or n.xml,
        protocol=n.protocol,
        authorized_at=n.authorized_at.isoformat() if n.authorized_at else "",
        cancelled=n.status == "cancelled",
    )


@get("/fiscal/nfcom/{nfcom_id:str}/danfecom", opt=READ, sync_to_thread=True, summary="DANFE-COM (PDF)")
def danfecom(request: Request[Any, Any, Any], nfcom_id: str, download: bool = False) -> Response[bytes]:
    p = require_principal(request)
    pdf = danfecom_pdf(container_of(request), p.tenant_id, nfcom_id)
    disposition = "attachment" if download else "inline"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="danfecom-{nfcom_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/fiscal/nfcom/{nfcom_id:str}/calls",
    opt=READ,
    sync_to_thread=True,
    summary="Integration log: every call to the authority for this NFCom",
)
def nfcom_calls(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    p = require_principal(request)
    read_row(request, nfcom_id)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return {"items": jsonable(list_nfcom_calls(conn, p.tenant_id, nfcom_id))}


@get(
    "/fiscal/invoices/{invoice_id:str}/documents",
    opt=READ,
    sync_to_thread=True,
    summary="The NFCom (SCM) and NFS-e (SVA) issued for a billing invoice",
)
def invoice_documents(request: Request[Any, Any, Any], invoice_id: str) -> dict[str, Any]:
    from retaguarda.fiscal.nfcom.invoicing import documents_of_invoice

    p = require_principal(request)
    container = container_of(request)
    container.billing.get_invoice(p.tenant_id, invoice_id)  # 404 unless it is this tenant's invoice
    return jsonable(documents_of_invoice(container, p.tenant_id, invoice_id))


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    competence: str


@post("/fiscal/nfcom/bulk", opt=WRITE, sync_to_thread=True, status_code=202,
      summary="Issue the NFCom (and NFS-e) of every billing invoice of a competence, through the queue")
def start_bulk_run(request: Request[Any, Any, Any], data: BulkIn) -> Response[dict[str, Any]]:
    from retaguarda.fiscal.nfcom.bulk import run_of, start_bulk

    c = container_of(request)
    run = start_bulk(c, meta_of(request), data.competence)
    return Response(jsonable(run_of(c, run.tenant_id, str(run.id))), status_code=202,
                    headers={"Location": f"/api/v1/fiscal/nfcom/bulk/{run.id}"})


@get("/fiscal/nfcom/bulk/{run_id:str}", opt=READ, sync_to_thread=True, summary="A bulk run's progress")
def read_bulk_run(request: Request[Any, Any, Any], run_id: str) -> dict[str, Any]:
    from retaguarda.fiscal.nfcom.bulk import run_of

    return jsonable(run_of(container_of(request), require_principal(request).tenant_id, run_id))


routes = [
    start_bulk_run,
    read_bulk_run,
    invoice_documents,
    nfcom_book_export,
    create_nfcom,
    list_nfcoms,
    nfcom_book_api,
    read_nfcom_settings,
    write_nfcom_settings,
    read_nfcom,
    correct_nfcom,
    emit_nfcom,
    cancel_nfcom,
    retry_nfcom,
    nfcom_xml,
    nfcom_cancellation_xml,
    danfecom,
    nfcom_calls,
]
