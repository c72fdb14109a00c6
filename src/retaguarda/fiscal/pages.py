"""HTML pages of the fiscal context: NFS-e list, draft form with live tax preview, note page
(send / cancel / retry / XML / DANFSe via HTMX, integration log, History), dead letters, fiscal
book with exports, settings with certificate upload and "test connection"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.fiscal.fiscal_book import months as book_months
from projections.fiscal.kpis import kpis as kpis_query
from projections.fiscal.nfse_list import get_note_row, list_calls, list_notes
from projections.fiscal.settings_view import get_certificate_row, get_settings_row
from retaguarda.customers import list_customers
from retaguarda.fiscal import documents
from retaguarda.fiscal.api import full_book, preview_taxes
from retaguarda.fiscal.domain import (
    BACKENDS,
    CANCEL_REASONS,
    ENVIRONMENTS,
    SPECIAL_REGIMES,
    STATUSES,
    TAX_REGIMES,
)
from retaguarda.i18n import N_, error_text, format_datetime, format_money, gettext, parse_date, parse_money
from retaguarda.readdb import tenant_reader
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.municipalities import municipality_name
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template
from retaguarda.web.middleware import FRAMABLE_BY_SELF

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "fiscal:read"}
WRITE = {"permission": "fiscal:write"}
CANCEL = {"permission": "fiscal:cancel"}
SETTINGS = {"permission": "fiscal:settings"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
IN_FLIGHT = ("requested", "submitted", "cancelling")
STATUS_LABELS = {  # msgids, translated in fiscal/_status.html
    "draft": N_("draft"), "requested": N_("sending"), "submitted": N_("processing"),
    "authorized": N_("authorized"), "rejected": N_("rejected"), "failed": N_("failed"),
    "cancelling": N_("cancelling"), "cancelled": N_("cancelled"),
    "cancellation_rejected": N_("cancel rejected"), "cancellation_failed": N_("cancel failed"),
}
BACKEND_LABELS = {"sandbox": N_("Sandbox (simulated authority)"), "portal_nacional": "Portal Nacional (Sefin)",
                  "focus_nfe": "Focus NFe", "tecnospeed": "TecnoSpeed PlugNotas"}
SPECIAL_LABELS = {0: "Nenhum", 1: "Ato cooperado", 2: "Estimativa", 3: "Microempresa municipal",
                  4: "Notário ou registrador", 5: "Profissional autônomo", 6: "Sociedade de profissionais",
                  9: "Outros"}


def _helpers() -> dict[str, Any]:
    return {"fmt": format_document, "labels": STATUS_LABELS, "local": _local, "brl": _brl,
            "city": municipality_name}


def _local(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return format_datetime(value)


def _brl(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return format_money(value)


def _settings_row(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return get_settings_row(conn, p.tenant_id)


# List ------------------------------------------------------------------------------------------

@get("/fiscal/nfse", opt=READ, sync_to_thread=True, include_in_schema=False)
def nfse_list(request: Request[Any, Any, Any], status: str = "", competence: str = "", customer: str = "",
              page: int = 1) -> Template:
    p = require_principal(request)
    status = status if status in STATUSES or status == "dead_letter" else ""
    try:
        if competence:
            documents.validate_competence(competence)
    except ValidationError:
        competence = ""
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_notes(conn, p.tenant_id, status=status, competence=competence, customer=customer,
                            page=max(1, page))
        settings = get_settings_row(conn, p.tenant_id)

    def page_url(n: int) -> str:
        return "/fiscal/nfse?" + urlencode({"status": status, "competence": competence,
                                            "customer": customer, "page": n})

    template = "fiscal/_rows.html" if request.headers.get("hx-target") == "nfse-rows" else "fiscal/list.html"
    return Template(template, context={
        "result": result, "status": status, "competence": competence, "customer": customer,
        "statuses": STATUSES, "page_url": page_url, "settings": settings, **_helpers()})


@get("/fiscal/dead-letters", opt=READ, sync_to_thread=True, include_in_schema=False)
def dead_letters(request: Request[Any, Any, Any], page: int = 1) -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_notes(conn, p.tenant_id, status="dead_letter", page=max(1, page))
    return Template("fiscal/dead_letters.html", context={"result": result, **_helpers()})


# Draft form --------------------------------------------------------------------------------------

def _customers(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return list_customers(conn, p.tenant_id, status="active", per_page=200)["items"]


def _form_defaults(settings: dict[str, Any] | None, container: Container) -> dict[str, Any]:
    service = (settings or {}).get("default_service") or {}
    today = container.clock.now().astimezone(SAO_PAULO).date()
    return {"service.code": service.get("code", ""), "service.nbs": service.get("nbs", ""),
            "service.description": service.get("description", ""), "amount": "", "deductions": "0,00",
            "competence": today.isoformat(),
            "iss_rate": format_money(service.get("iss_rate", "2.00"), currency=False),
            "iss_withheld": service.get("iss_withheld", False)}


@get("/fiscal/nfse/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_form(request: Request[Any, Any, Any], customer_id: str = "") -> Any:
    settings = _settings_row(request)
    if settings is None:
        return Redirect("/fiscal/settings?missing=1")
    values = {**_form_defaults(settings, container_of(request)), "customer_id": customer_id}
    return Template("fiscal/form.html", context={
        "values": values, "errors": {}, "customers": _customers(request), "settings": settings,
        "note": None, **_helpers()})


MONEY_FIELDS = (("amount", N_("Amount (R$)"), ""), ("deductions", N_("Deductions (R$)"), "0"),
                ("iss_rate", N_("ISS rate (%)"), "0"))


def _form_data(form: dict[str, Any], errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The draft as the service takes it; amounts typed as people do (1.500,00 · 1500,00 · 1500.00).

    An amount or date that cannot be read goes to `errors` (field → Portuguese message)."""
    errors = {} if errors is None else errors
    numbers: dict[str, str] = {}
    for field, label, default in MONEY_FIELDS:
        raw = str(form.get(field) or "").strip()
        if not raw:
            numbers[field] = default
            continue
        try:
            numbers[field] = str(parse_money(raw))
        except ValueError:
            numbers[field] = ""
            errors[field] = gettext("%(field)s: “%(value)s” is not an amount (e.g. 1.234,56).",
                                    field=gettext(label), value=raw)
    competence = str(form.get("competence") or "").strip()
    if competence and "/" in competence:
        try:
            competence = parse_date(competence if competence.count("/") == 2 else f"01/{competence}").isoformat()
        except ValueError:
            errors["competence"] = gettext("%(field)s: “%(value)s” is not a date (dd/mm/aaaa).",
                                           field=gettext("Competence"), value=competence)
    return {
        "customer_id": str(form.get("customer_id") or ""),
        "service": {"code": form.get("service.code", ""), "nbs": form.get("service.nbs", ""),
                    "description": form.get("service.description", "")},
        "amount": numbers["amount"],
        "deductions": numbers["deductions"] or "0",
        "competence": competence,
        "iss_rate": numbers["iss_rate"] or "0",
        "iss_withheld": form.get("iss_withheld") in ("on", "true", "1", True),
    }


def _form_errors(exc: ValidationError | ConflictError) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return {key: error_text(value) for key, value in exc.errors.items()}
    return {exc.field or "form": error_text(exc.message)}


@post("/fiscal/nfse/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    errors: dict[str, str] = {}
    form = _form_data(data, errors)
    try:
        if errors:
            raise ValidationError.many(errors)
        saved = container_of(request).fiscal.create_draft(meta_of(request), form)
    except (ValidationError, ConflictError) as exc:
        errors = {**_form_errors(exc), **errors}
        return Template("fiscal/form.html", status_code=422, context={
            "values": data, "errors": errors, "customers": _customers(request),
            "settings": _settings_row(request), "note": None, **_helpers()})
    return Redirect(f"/fiscal/nfse/{saved.aggregate.id}?created=1")


@get("/fiscal/nfse/{note_id:str}/edit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def edit_form(request: Request[Any, Any, Any], note_id: str) -> Template:
    row = _note_row(request, note_id)
    values = {"customer_id": row["customer_id"], "service.code": row["service_code"],
              "service.nbs": row["nbs"], "service.description": row["description"],
              "amount": format_money(row["amount"], currency=False),
              "deductions": format_money(row["deductions"], currency=False),
              "competence": row["competence"].isoformat(),
              "iss_rate": format_money(row["iss_rate"], currency=False),
              "iss_withheld": row["iss_withheld"]}
    return Template("fiscal/form.html", context={
        "values": values, "errors": {}, "customers": _customers(request),
        "settings": _settings_row(request), "note": row, **_helpers()})


@post("/fiscal/nfse/{note_id:str}/edit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def update(request: Request[Any, Any, Any], note_id: str, data: dict[str, Any] = FORM) -> Any:
    row = _note_row(request, note_id)
    errors: dict[str, str] = {}
    form = _form_data(data, errors)
    try:
        if errors:
            raise ValidationError.many(errors)
        container_of(request).fiscal.correct_note(meta_of(request), note_id, form)
    except (ValidationError, ConflictError) as exc:
        errors = {**_form_errors(exc), **errors}
        return Template("fiscal/form.html", status_code=422, context={
            "values": data, "errors": errors, "customers": _customers(request),
            "settings": _settings_row(request), "note": row, **_helpers()})
    return Redirect(f"/fiscal/nfse/{note_id}?saved=1")


@post("/fiscal/preview", opt=READ, sync_to_thread=True, include_in_schema=False)
def preview(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Template:
    p = require_principal(request)
    errors: dict[str, str] = {}
    form = _form_data(data, errors)
    fs = container_of(request).fiscal.get_settings(p.tenant_id)
    try:
        if errors:
            raise ValidationError.many(errors)
        if fs is None:
            raise ConflictError("configure the fiscal settings first")
        taxes = preview_taxes(fs, form["amount"] or "0", form["deductions"] or "0", form["iss_rate"],
                              form["iss_withheld"])
        error = None
    except (ValidationError, ConflictError) as exc:
        taxes, error = None, "; ".join(_form_errors(exc).values())
    return Template("fiscal/_preview.html", context={"t": taxes, "error": error, **_helpers()})


# Note page --------------------------------------------------------------------------------------

def _note_row(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_note_row(conn, p.tenant_id, note_id)
    if row is None:
        raise NotFoundError("Nfse", note_id)
    return row


def _panel(request: Request[Any, Any, Any], note_id: str, flash: str | None = None,
           flash_kind: str = "ok", status_code: int = 200) -> Template:
    row = _note_row(request, note_id)
    return Template("fiscal/_panel.html", status_code=status_code, context={
        "n": row, "flash": flash, "flash_kind": flash_kind, "reasons": CANCEL_REASONS,
        "in_flight": row["status"] in IN_FLIGHT, "oob": True, **_helpers()})


@get("/fiscal/nfse/{note_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def detail(request: Request[Any, Any, Any], note_id: str, tab: str = "overview", created: int = 0,
           saved: int = 0) -> Template:
    p = require_principal(request)
    row = _note_row(request, note_id)
    calls: list[dict[str, Any]] = []
    if tab == "log":
        with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
            calls = list_calls(conn, p.tenant_id, note_id)
    flash = gettext("Draft created.") if created else (gettext("Changes saved.") if saved else None)
    return Template("fiscal/detail.html", context={
        "n": row, "tab": tab if tab in ("overview", "log", "history") else "overview", "calls": calls,
        "flash": flash, "reasons": CANCEL_REASONS, "in_flight": row["status"] in IN_FLIGHT,
        "settings": _settings_row(request), **_helpers()})


@get("/fiscal/nfse/{note_id:str}/panel", opt=READ, sync_to_thread=True, include_in_schema=False)
def panel(request: Request[Any, Any, Any], note_id: str) -> Template:
    return _panel(request, note_id)


def _act(request: Request[Any, Any, Any], note_id: str, action: Any, done: str) -> Template:
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        return _panel(request, note_id, error_text(exc.message), "error", 422)
    return _panel(request, note_id, gettext(done))


@post("/fiscal/nfse/{note_id:str}/emit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def emit(request: Request[Any, Any, Any], note_id: str) -> Template:
    service = container_of(request).fiscal
    return _act(request, note_id, lambda: service.emit(meta_of(request), note_id),
                N_("Sent. Waiting for the authority…"))


@post("/fiscal/nfse/{note_id:str}/cancel", opt=CANCEL, sync_to_thread=True, include_in_schema=False)
def cancel(request: Request[Any, Any, Any], note_id: str, data: dict[str, Any] = FORM) -> Template:
    service = container_of(request).fiscal
    return _act(request, note_id, lambda: service.cancel(meta_of(request), note_id,
                                                         data.get("reason_code"), data.get("reason")),
                N_("Cancellation requested."))


@post("/fiscal/nfse/{note_id:str}/retry", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def retry(request: Request[Any, Any, Any], note_id: str) -> Any:
    service = container_of(request).fiscal
    if request.headers.get("hx-request") and request.headers.get("hx-target") != "note-panel":
        try:
            service.retry(meta_of(request), note_id)
        except ConflictError:
            return Redirect("/fiscal/dead-letters")
        return Response("", headers={"HX-Redirect": f"/fiscal/nfse/{note_id}"})
    return _act(request, note_id, lambda: service.retry(meta_of(request), note_id), N_("Retry requested."))


@get("/fiscal/nfse/{note_id:str}/danfse", opt=READ, sync_to_thread=True, include_in_schema=False)
def danfse_pdf(request: Request[Any, Any, Any], note_id: str, download: bool = False) -> Response[bytes]:
    p = require_principal(request)
    pdf, source = documents.danfse(container_of(request), p.tenant_id, note_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'{"attachment" if download else "inline"}; filename="danfse-{note_id}.pdf"',
        "X-Danfse-Source": source, "Cache-Control": "private, no-store",
        **FRAMABLE_BY_SELF})  # the note page previews it in an iframe; other sites still cannot


@get("/fiscal/nfse/{note_id:str}/xml/{which:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def xml_file(request: Request[Any, Any, Any], note_id: str, which: str) -> Response[bytes]:
    if which not in ("nfse", "dps", "cancellation"):
        raise NotFoundError("Document", which)
    p = require_principal(request)
    key = {"nfse": "xml", "dps": "dps", "cancellation": "event"}[which]
    text = documents.note_xml(container_of(request), p.tenant_id, note_id, key)
    return Response(text.encode(), media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{which}-{note_id}.xml"'})


# Fiscal book ----------------------------------------------------------------------------------------

@get("/fiscal/book", opt=READ, sync_to_thread=True, include_in_schema=False)
def book_page(request: Request[Any, Any, Any], competence: str = "") -> Template:
    p = require_principal(request)
    container = container_of(request)
    try:
        month = documents.validate_competence(competence) if competence else \
            container.clock.now().astimezone(SAO_PAULO).strftime("%Y-%m")
    except ValidationError:
        month = container.clock.now().astimezone(SAO_PAULO).strftime("%Y-%m")
    with tenant_reader(container.engine, p.tenant_id) as conn:
        doc = full_book(conn, p.tenant_id, month)
        known = book_months(conn, p.tenant_id)
        kpi = kpis_query(conn, p.tenant_id, container.clock.now())
    return Template("fiscal/book.html", context={"doc": doc, "month": month, "months": known, "kpi": kpi,
                                                 **_helpers()})


@get("/fiscal/book/export", opt=READ, sync_to_thread=True, include_in_schema=False)
def book_export(request: Request[Any, Any, Any], competence: str = "", format: str = "csv") -> Response[bytes]:
    from retaguarda.fiscal.api import book_export_response

    return book_export_response(request, competence, format)


# Settings ---------------------------------------------------------------------------------------------

def _settings_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        row = get_settings_row(conn, p.tenant_id)
        cert = get_certificate_row(conn, p.tenant_id)
    fs = container.fiscal.get_settings(p.tenant_id)
    webhook = (f"{container.settings.base_url}/api/v1/fiscal/webhooks/{fs.backend}/{fs.webhook_token}"
               if fs else None)
    days_left = None
    if cert:
        days_left = (cert["valid_until"] - container.clock.now()).days
    return {"s": row, "cert": cert, "days_left": days_left, "webhook_url": webhook,
            "backends": BACKENDS, "backend_labels": BACKEND_LABELS, "environments": ENVIRONMENTS,
            "regimes": TAX_REGIMES, "special_regimes": SPECIAL_REGIMES, "special_labels": SPECIAL_LABELS,
            "errors": {}, "values": None, "cert_errors": {}, "test": None, **_helpers(), **extra}


@get("/fiscal/settings", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0, uploaded: int = 0,
                  missing: int = 0) -> Template:
    flash = (gettext("Settings saved.") if saved else gettext("Certificate uploaded.") if uploaded else
             gettext("Configure the fiscal settings before drafting notes.") if missing else None)
    return Template("fiscal/settings.html", context=_settings_context(request, flash=flash))


def _settings_form(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    issuer = {k: form.get(f"issuer.{k}", "") for k in (
        "cnpj", "name", "municipal_registration", "tax_regime", "special_regime", "municipality_ibge",
        "uf", "street", "number", "district", "cep", "email", "phone")}
    data = {
        "backend": form.get("backend"), "environment": form.get("environment"), "issuer": issuer,
        "series": form.get("series"), "next_number": form.get("next_number") or 1,
        "default_service": {"code": form.get("default_service.code", ""),
                            "nbs": form.get("default_service.nbs", ""),
                            "description": form.get("default_service.description", ""),
                            "iss_rate": str(form.get("default_service.iss_rate") or "0").replace(",", "."),
                            "iss_withheld": form.get("default_service.iss_withheld") == "on"},
        "cbs_rate": str(form.get("cbs_rate") or "").replace(",", "."),
        "ibs_uf_rate": str(form.get("ibs_uf_rate") or "").replace(",", "."),
        "ibs_mun_rate": str(form.get("ibs_mun_rate") or "").replace(",", "."),
        "emit_on_cash_confirm": form.get("emit_on_cash_confirm") == "on",
    }
    credentials = {k: form.get(f"credentials.{k}") for k in
                   ("focus_token", "focus_token_producao", "plugnotas_api_key") if form.get(f"credentials.{k}")}
    return data, credentials


@post("/fiscal/settings", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def settings_save(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    fields, credentials = _settings_form(data)
    try:
        container_of(request).fiscal.save_settings(meta_of(request), fields, credentials)
    except (ValidationError, ConflictError) as exc:
        errors = _form_errors(exc)
        values = {k: v for k, v in data.items() if not k.startswith("credentials.")}
        return Template("fiscal/settings.html", status_code=422,
                        context=_settings_context(request, errors=errors, values=values))
    return Redirect("/fiscal/settings?saved=1")


@post("/fiscal/certificate", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def certificate_upload(request: Request[Any, Any, Any],
                       data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    upload = data.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("file", "choose the .pfx/.p12 file")
        content = upload.file.read(64 * 1024 + 1)
        if len(content) > 64 * 1024:
            raise ValidationError("file", "an A1 certificate file is at most 64 KiB")
        container_of(request).fiscal.upload_certificate(meta_of(request), content,
                                                                str(data.get("password") or ""))
    except (ValidationError, ConflictError) as exc:
        errors = {("certificate" if k == "form" else k): v for k, v in _form_errors(exc).items()}
        return Template("fiscal/settings.html", status_code=422,
                        context=_settings_context(request, cert_errors=errors))
    return Redirect("/fiscal/settings?uploaded=1")


@post("/fiscal/test-connection", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def test_connection(request: Request[Any, Any, Any]) -> Template:
    p = require_principal(request)
    try:
        result = documents.test_connection(container_of(request), p.tenant_id)
    except ConflictError as exc:
        result = {"ok": False, "message": error_text(exc.message), "calls": []}
    return Template("fiscal/_test_connection.html", context={"test": result, **_helpers()})


@post("/fiscal/register-webhook", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def register_webhook(request: Request[Any, Any, Any]) -> Template:
    p = require_principal(request)
    try:
        result = documents.register_webhook(container_of(request), p.tenant_id)
    except ConflictError as exc:
        result = {"ok": False, "message": error_text(exc.message), "calls": []}
    return Template("fiscal/_test_connection.html", context={"test": result, **_helpers()})


pages = [
    nfse_list, dead_letters, new_form, create, preview, edit_form, update, detail, panel, emit, cancel,
    retry, danfse_pdf, xml_file, book_page, book_export, settings_page, settings_save,
    certificate_upload, test_connection, register_webhook,
]

from retaguarda.fiscal.nfcom.pages import pages as _nfcom_pages  # noqa: E402  (NFCom, model 62)

pages += _nfcom_pages
