"""HTML pages of NFCom: list (filters, dead letters), new draft, detail (status, key, protocol, XML,
DANFE-COM, cancel, retry via HTMX, integration log, History) and settings (series, environment,
backend, tax rates, cClass/CFOP defaults). Text through `_()`; money/dates via the i18n filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.fiscal.nfcom_list import get_nfcom_row, list_nfcom, list_nfcom_calls
from retaguarda.customers import list_customers
from retaguarda.fiscal.nfcom.api import danfecom_pdf, document_xml
from retaguarda.fiscal.nfcom.domain import BACKENDS, ENVIRONMENTS, STATUSES, UNITS
from retaguarda.i18n import _
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "fiscal:read"}
WRITE = {"permission": "fiscal:write"}
CANCEL = {"permission": "fiscal:cancel"}
SETTINGS = {"permission": "fiscal:settings"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
IN_FLIGHT = ("requested", "cancelling")
ITEM_ROWS = 4


def status_labels() -> dict[str, str]:
    return {
        "draft": _("draft"),
        "requested": _("sending"),
        "authorized": _("authorized"),
        "rejected": _("rejected"),
        "denied": _("denied"),
        "failed": _("failed"),
        "cancelling": _("cancelling"),
        "cancelled": _("cancelled"),
        "cancellation_rejected": _("cancel rejected"),
        "cancellation_failed": _("cancel failed"),
        "dead_letter": _("dead letters"),
    }


def backend_labels() -> dict[str, str]:
    return {
        "sandbox": _("Sandbox (simulated SVRS)"),
        "svrs": _("SVRS (SOAP, A1 certificate)"),
        "focus_nfe": _("Focus NFe"),
    }


def environment_labels() -> dict[str, str]:
    return {"homologacao": _("Homologation (no fiscal value)"), "producao": _("Production")}


def _helpers() -> dict[str, Any]:
    return {
        "fmt": format_document,
        "labels": status_labels(),
        "backends": backend_labels(),
        "environments": environment_labels(),
    }


def _row(request: Request[Any, Any, Any], nfcom_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_nfcom_row(conn, p.tenant_id, nfcom_id)
    if row is None:
        raise NotFoundError("Nfcom", nfcom_id)
    return row


@get("/fiscal/nfcom", opt=READ, sync_to_thread=True, include_in_schema=False)
def nfcom_list(
    request: Request[Any, Any, Any], status: str = "", competence: str = "", customer: str = "", page: int = 1
) -> Template:
    import re

    p = require_principal(request)
    status = status if status in STATUSES or status == "dead_letter" else ""
    competence = competence if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", competence or "") else ""
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_nfcom(
            conn, p.tenant_id, status=status, competence=competence, customer=customer, page=max(1, page)
        )
    settings = container_of(request).nfcom.settings_of(p.tenant_id)

    def page_url(n: int) -> str:
        return "/fiscal/nfcom?" + urlencode(
            {"status": status, "competence": competence, "customer": customer, "page": n}
        )

    template = (
        "fiscal/nfcom/_rows.html"
        if request.headers.get("hx-target") == "nfcom-rows"
        else "fiscal/nfcom/list.html"
    )
    return Template(
        template,
        context={
            "result": result,
            "status": status,
            "competence": competence,
            "customer": customer,
            "statuses": (*STATUSES, "dead_letter"),
            "page_url": page_url,
            "settings": settings,
            **_helpers(),
        },
    )


# New draft ------------------------------------------------------------------------------------------


def _customers(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return list(list_customers(conn, p.tenant_id, page=1, per_page=200)["items"])


def _form(
    request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    p = require_principal(request)
    settings = container_of(request).nfcom.settings_of(p.tenant_id)
    return Template(
        "fiscal/nfcom/form.html",
        status_code=status_code,
        context={
            "values": values,
            "errors": errors,
            "customers": _customers(request),
            "units": UNITS,
            "rows": ITEM_ROWS,
            "settings": settings,
            **_helpers(),
        },
    )


@get("/fiscal/nfcom/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_form(request: Request[Any, Any, Any], customer_id: str = "") -> Template:
    now = container_of(request).clock.now()
    return _form(request, {"customer_id": customer_id, "competence": f"{now:%Y-%m}"}, {})


def form_data(form: dict[str, Any]) -> dict[str, Any]:
    """The API shape from the form: item rows without a description are ignored."""
    from retaguarda.i18n import parse_money

    items = []
    for n in range(ITEM_ROWS):
        description = str(form.get(f"description_{n}") or "").strip()
        if not description:
            continue
        price = str(form.get(f"unit_price_{n}") or "").strip()
        try:
            price_value: Any = str(parse_money(price)) if price else ""
        except (ValueError, ValidationError):
            price_value = price
        items.append(
            {
                "description": description,
                "cclass": form.get(f"cclass_{n}") or None,
                "quantity": str(form.get(f"quantity_{n}") or "1").replace(",", "."),
                "unit": form.get(f"unit_{n}") or "UN",
                "unit_price": price_value,
            }
        )
    return {
        "customer_id": form.get("customer_id") or "",
        "competence": form.get("competence") or "",
        "due_date": form.get("due_date") or None,
        "items": items,
    }


@post("/fiscal/nfcom/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    try:
        saved = container_of(request).nfcom.create_draft(meta_of(request), form_data(data))
    except ValidationError as exc:
        return _form(request, dict(data), exc.errors, 422)
    return Redirect(f"/fiscal/nfcom/{saved.aggregate.id}?created=1")


# Detail --------------------------------------------------------------------------------------------


def _panel(
    request: Request[Any, Any, Any],
    nfcom_id: str,
    flash: str | None = None,
    flash_kind: str = "ok",
    status_code: int = 200,
) -> Template:
    row = _row(request, nfcom_id)
    return Template(
        "fiscal/nfcom/_panel.html",
        status_code=status_code,
        context={
            "n": row,
            "flash": flash,
            "flash_kind": flash_kind,
            "in_flight": row["status"] in IN_FLIGHT,
            "oob": True,
            **_helpers(),
        },
    )


@get("/fiscal/nfcom/{nfcom_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def detail(
    request: Request[Any, Any, Any], nfcom_id: str, tab: str = "overview", created: int = 0
) -> Template:
    p = require_principal(request)
    row = _row(request, nfcom_id)
    calls: list[dict[str, Any]] = []
    if tab == "log":
        with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
            calls = list_nfcom_calls(conn, p.tenant_id, nfcom_id)
    nfse_id = None
    if row.get("invoice_id"):
        from retaguarda.fiscal.nfcom.invoicing import documents_of_invoice

        nfse = documents_of_invoice(container_of(request), p.tenant_id, row["invoice_id"])["nfse"]
        nfse_id = nfse["id"] if nfse else None
    return Template(
        "fiscal/nfcom/detail.html",
        context={
            "n": row,
            "tab": tab if tab in ("overview", "log", "history") else "overview",
            "calls": calls,
            "flash": _("Draft created.") if created else None,
            "in_flight": row["status"] in IN_FLIGHT,
            "nfse_id": nfse_id,
            **_helpers(),
        },
    )


@get("/fiscal/nfcom/{nfcom_id:str}/panel", opt=READ, sync_to_thread=True, include_in_schema=False)
def panel(request: Request[Any, Any, Any], nfcom_id: str) -> Template:
    return _panel(request, nfcom_id)


def _act(request: Request[Any, Any, Any], nfcom_id: str, action: Any, done: str) -> Template:
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        return _panel(request, nfcom_id, exc.message, "error", 422)
    return _panel(request, nfcom_id, done)


@post("/fiscal/nfcom/{nfcom_id:str}/emit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def emit(request: Request[Any, Any, Any], nfcom_id: str) -> Template:
    service = container_of(request).nfcom
    return _act(
        request,
        nfcom_id,
        lambda: service.emit(meta_of(request), nfcom_id),
        _("Sent. Waiting for the authority…"),
    )


@post("/fiscal/nfcom/{nfcom_id:str}/cancel", opt=CANCEL, sync_to_thread=True, include_in_schema=False)
def cancel(request: Request[Any, Any, Any], nfcom_id: str, data: dict[str, Any] = FORM) -> Template:
    service = container_of(request).nfcom
    return _act(
        request,
        nfcom_id,
        lambda: service.cancel(meta_of(request), nfcom_id, data.get("reason")),
        _("Cancellation requested."),
    )


@post("/fiscal/nfcom/{nfcom_id:str}/retry", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def retry(request: Request[Any, Any, Any], nfcom_id: str) -> Any:
    service = container_of(request).nfcom
    if request.headers.get("hx-request") and request.headers.get("hx-target") != "nfcom-panel":
        try:
            service.retry(meta_of(request), nfcom_id)
        except ConflictError:
            return Redirect("/fiscal/nfcom?status=dead_letter")
        return Response("", headers={"HX-Redirect": f"/fiscal/nfcom/{nfcom_id}"})
    return _act(request, nfcom_id, lambda: service.retry(meta_of(request), nfcom_id), _("Retry requested."))


@get("/fiscal/nfcom/{nfcom_id:str}/file/xml", opt=READ, sync_to_thread=True, include_in_schema=False)
def xml_file(request: Request[Any, Any, Any], nfcom_id: str, which: str = "nfcom") -> Response[bytes]:
    p = require_principal(request)
    text = document_xml(
        container_of(request), p.tenant_id, nfcom_id, "cancellation" if which == "cancellation" else "nfcom"
    )
    return Response(
        text.encode(),
        media_type="application/xml",
        headers={
            "Content-Disposition": f'inline; filename="nfcom-{nfcom_id}.xml"',
            "Cache-Control": "private, no-store",
        },
    )


@get("/fiscal/nfcom/{nfcom_id:str}/file/danfecom", opt=READ, sync_to_thread=True, include_in_schema=False)
def danfecom_file(request: Request[Any, Any, Any], nfcom_id: str, download: bool = False) -> Response[bytes]:
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


# Book ---------------------------------------------------------------------------------------------


@get("/fiscal/nfcom/book", opt=READ, sync_to_thread=True, include_in_schema=False)
def book_page(request: Request[Any, Any, Any], competence: str = "") -> Template:
    import re

    from projections.fiscal.nfcom_list import nfcom_book

    p = require_principal(request)
    month = competence.strip()[:7]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        month = f"{container_of(request).clock.now():%Y-%m}"
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        doc = nfcom_book(conn, p.tenant_id, month)
    return Template(
        "fiscal/nfcom/book.html", context={"doc": doc, "month": month, "status": "", **_helpers()}
    )


@get("/fiscal/nfcom/book/export", opt=READ, sync_to_thread=True, include_in_schema=False)
def book_export(
    request: Request[Any, Any, Any], competence: str = "", format: str = "csv"
) -> Response[bytes]:
    from retaguarda.fiscal.nfcom.api import book_export_response

    p = require_principal(request)
    return book_export_response(container_of(request), p.tenant_id, competence, format)


# Settings --------------------------------------------------------------------------------------------


@get("/fiscal/nfcom/settings", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0) -> Template:
    p = require_principal(request)
    values = container_of(request).nfcom.settings_of(p.tenant_id)
    return Template(
        "fiscal/nfcom/settings.html",
        context={
            "values": values,
            "errors": {},
            "flash": _("Settings saved.") if saved else None,
            "backend_names": BACKENDS,
            "environment_names": ENVIRONMENTS,
            **_helpers(),
        },
    )


@post("/fiscal/nfcom/settings", opt=SETTINGS, sync_to_thread=True, include_in_schema=False)
def settings_save(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    fields = {
        k: v
        for k, v in data.items()
        if k
        in (
            "backend",
            "environment",
            "series",
            "next_number",
            "state_registration",
            "crt",
            "icms_rate",
            "pis_rate",
            "cofins_rate",
            "fust_rate",
            "funttel_rate",
            "cclass",
            "cfop",
            "subscriber_kind",
            "service_type",
            "due_days",
            "city",
            "issue_on",
        )
    }
    for key in ("icms_rate", "pis_rate", "cofins_rate", "fust_rate", "funttel_rate"):
        if key in fields:
            fields[key] = str(fields[key]).replace(",", ".")
    fields["ibscbs"] = data.get("ibscbs") in ("on", "true", "1")
    fields["scm_kinds"] = [k for k in ("plan", "product", "service") if data.get(f"scm_{k}") in ("on", "1")]
    try:
        container_of(request).nfcom.save_settings(meta_of(request), fields)
    except ValidationError as exc:
        return Template(
            "fiscal/nfcom/settings.html",
            status_code=422,
            context={
                "values": {
                    **container_of(request).nfcom.settings_of(require_principal(request).tenant_id),
                    **data,
                },
                "errors": exc.errors,
                "flash": None,
                "backend_names": BACKENDS,
                "environment_names": ENVIRONMENTS,
                **_helpers(),
            },
        )
    return Redirect("/fiscal/nfcom/settings?saved=1")


# Bulk runs ----------------------------------------------------------------------------------------


@get("/fiscal/nfcom/bulk", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def bulk_form(request: Request[Any, Any, Any]) -> Template:
    month = f"{container_of(request).clock.now():%Y-%m}"
    return Template("fiscal/nfcom/bulk.html", context={"run": None, "month": month, "errors": {},
                                                       "status": "", **_helpers()})


@post("/fiscal/nfcom/bulk", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def bulk_start(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    from retaguarda.fiscal.nfcom.bulk import start_bulk

    try:
        run = start_bulk(container_of(request), meta_of(request), data.get("competence", ""))
    except (ValidationError, ConflictError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"competence": exc.message}
        return Template("fiscal/nfcom/bulk.html", status_code=422 if isinstance(exc, ValidationError) else 409,
                        context={"run": None, "month": data.get("competence", ""), "errors": errors,
                                 "status": "", **_helpers()})
    return Redirect(f"/fiscal/nfcom/bulk/{run.id}")


def _bulk_view(request: Request[Any, Any, Any], run_id: str) -> dict[str, Any]:
    from retaguarda.fiscal.nfcom.bulk import run_of

    return run_of(container_of(request), require_principal(request).tenant_id, run_id)


@get("/fiscal/nfcom/bulk/{run_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def bulk_page(request: Request[Any, Any, Any], run_id: str) -> Template:
    run = _bulk_view(request, run_id)
    return Template("fiscal/nfcom/bulk.html", context={"run": run, "month": run["competence"], "errors": {},
                                                       "status": "", **_helpers()})


@get("/fiscal/nfcom/bulk/{run_id:str}/progress", opt=READ, sync_to_thread=True, include_in_schema=False)
def bulk_progress(request: Request[Any, Any, Any], run_id: str) -> Template:
    return Template("fiscal/nfcom/_bulk_progress.html", context={"run": _bulk_view(request, run_id), **_helpers()})


pages = [
    bulk_form,
    bulk_start,
    bulk_page,
    bulk_progress,
    book_page,
    book_export,
    nfcom_list,
    new_form,
    create,
    settings_page,
    settings_save,
    detail,
    panel,
    emit,
    cancel,
    retry,
    xml_file,
    danfecom_file,
]
