"""HTML pages of the cash context: import wizard (upload → preview with duplicates greyed →
confirm), reconciliation queue with suggested matches, movement detail (links to the invoice
and the NFS-e), cash book with a balance chart (server-side SVG) and exports."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.cash.ledger import (
    cash_book,
    failed_notices,
    get_import_row,
    get_movement_row,
    list_accounts,
    list_imports,
    list_movements,
)
from retaguarda.cash.api import METHODS, book_range, suggestions_for
from retaguarda.cash.book import balance_svg
from retaguarda.cash.domain import NOT_REVENUE_CATEGORIES
from retaguarda.i18n import _
from retaguarda.readdb import tenant_reader
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PREVIEW_PAGE = 50
CATEGORY_LABELS = {
    "transfer": "Transfer between accounts",
    "loan": "Loan",
    "refund": "Refund",
    "fee": "Bank fee",
    "tax": "Tax",
    "other": "Other",
}
SOURCE_LABELS = {
    "statement": "Statement",
    "return_file": "Return file",
    "api_pix": "API Pix",
    "manual": "Manual",
}


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    return str(getattr(exc, "message", "") or exc)


@get("/cash", opt=READ, sync_to_thread=False, include_in_schema=False)
def cash_home() -> Redirect:
    return Redirect("/cash/reconciliation")


@get("/cash/imports", opt=READ, sync_to_thread=True, include_in_schema=False)
def imports_page(request: Request[Any, Any, Any], page: int = 1, error: str = "") -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        accounts = list_accounts(conn, p.tenant_id)
        result = list_imports(conn, p.tenant_id, max(1, page))
    return Template(
        "cash/imports.html",
        context={
            "accounts": accounts,
            "result": result,
            "error": error,
            "formats": ("ofx", "csv", "cnab240", "cnab400"),
            "page_url": lambda n: f"/cash/imports?page={n}",
        },
        status_code=422 if error else 200,
    )


@post("/cash/imports", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def upload_page(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Any:
    upload = data.get("file")
    c = container_of(request)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("file", _("Choose the bank file to import."))
        account_id = str(data.get("account_id") or "")
        try:
            c.cash.get_account(require_principal(request).tenant_id, account_id)
        except NotFoundError:
            raise ValidationError("account_id", _("Choose the account.")) from None
        saved = c.cash.preview_import(
            meta_of(request),
            account_id,
            upload.file,
            filename=upload.filename or "",
            fmt=str(data.get("format") or ""),
        )
    except (ValidationError, ConflictError) as exc:
        return imports_page.fn(request, error=_error_text(exc))  # type: ignore[attr-defined]
    c.wait_for(saved.position)
    return Redirect(f"/cash/imports/{saved.aggregate.id}")


@get("/cash/imports/{import_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def preview_page(request: Request[Any, Any, Any], import_id: str, offset: int = 0) -> Template:
    p = require_principal(request)
    c = container_of(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        row = get_import_row(conn, p.tenant_id, import_id)
    if row is None:
        raise NotFoundError("CashImport", import_id)
    offset = max(0, offset)
    lines, total = c.cash.preview_lines(p.tenant_id, import_id, offset=offset, limit=PREVIEW_PAGE)
    return Template(
        "cash/preview.html",
        context={"imp": row, "lines": lines, "total": total, "offset": offset, "limit": PREVIEW_PAGE},
    )


@post("/cash/imports/{import_id:str}/confirm", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def confirm_page(request: Request[Any, Any, Any], import_id: str) -> Any:
    c = container_of(request)
    try:
        c.cash.confirm_import(meta_of(request), import_id)
    except (ValidationError, ConflictError) as exc:
        return Redirect(f"/cash/imports/{import_id}?{urlencode({'error': _error_text(exc)})}")
    c.wait_for(c.store.head())
    return Redirect(f"/cash/imports/{import_id}")


@get("/cash/reconciliation", opt=READ, sync_to_thread=True, include_in_schema=False)
def queue_page(
    request: Request[Any, Any, Any], page: int = 1, account: str = "", error: str = ""
) -> Template:
    p = require_principal(request)
    c = container_of(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        result = list_movements(
            conn,
            p.tenant_id,
            status="unmatched",
            kind="credit",
            account=account,
            page=max(1, page),
            per_page=20,
        )
        failed = failed_notices(conn, p.tenant_id)
        accounts = list_accounts(conn, p.tenant_id)
    for item in result["items"]:
        item["suggestions"] = suggestions_for(c, p.tenant_id, item)
    return Template(
        "cash/queue.html",
        context={
            "result": result,
            "failed": failed,
            "accounts": accounts,
            "account": account,
            "error": error,
            "categories": [(k, CATEGORY_LABELS[k]) for k in NOT_REVENUE_CATEGORIES],
            "sources": SOURCE_LABELS,
            "page_url": lambda n: "/cash/reconciliation?" + urlencode({"page": n, "account": account}),
        },
    )


@post("/cash/movements/{movement_id:str}/action", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def movement_action(
    request: Request[Any, Any, Any], movement_id: str, data: dict[str, Any] = FORM
) -> Redirect:
    c = container_of(request)
    meta = meta_of(request)
    back = data.get("back") or "/cash/reconciliation"
    if not str(back).startswith("/cash/"):
        back = "/cash/reconciliation"
    try:
        action = data.get("action")
        if action == "match":
            invoice_id = str(data.get("invoice_id") or "").strip()
            try:
                c.billing.get_invoice(meta.tenant_id, invoice_id)
            except NotFoundError:
                raise ValidationError("invoice_id", _("Unknown invoice.")) from None
            c.cash.match_to_invoice(meta, movement_id, invoice_id)
        elif action == "not_revenue":
            c.cash.mark_not_revenue(meta, movement_id, str(data.get("category") or ""))
        else:
            raise ValidationError("action", _("Unknown action."))
    except (ValidationError, ConflictError, NotFoundError) as exc:
        sep = "&" if "?" in back else "?"
        return Redirect(f"{back}{sep}{urlencode({'error': _error_text(exc)})}")
    c.wait_for(c.store.head())
    return Redirect(back)


@post("/cash/pix-notices/{notice_id:str}/retry", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def notice_retry(request: Request[Any, Any, Any], notice_id: str) -> Redirect:
    c = container_of(request)
    saved = c.cash.retry_pix_notice(meta_of(request), notice_id)
    c.wait_for(saved.position)
    return Redirect("/cash/reconciliation")


@get("/cash/movements/{movement_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def movement_page(request: Request[Any, Any, Any], movement_id: str, error: str = "") -> Template:
    p = require_principal(request)
    c = container_of(request)
    with tenant_reader(c.engine, p.tenant_id) as conn:
        row = get_movement_row(conn, p.tenant_id, movement_id)
    if row is None:
        raise NotFoundError("CashMovement", movement_id)
    invoice = None
    if row.get("invoice_id"):
        try:
            invoice = c.billing.get_invoice(p.tenant_id, row["invoice_id"])
        except NotFoundError:
            invoice = None
    return Template(
        "cash/movement.html",
        context={
            "m": row,
            "invoice": invoice,
            "method": METHODS.get(row["source"], "transfer"),
            "error": error,
            "suggestions": suggestions_for(c, p.tenant_id, row),
            "sources": SOURCE_LABELS,
            "categories": [(k, CATEGORY_LABELS[k]) for k in NOT_REVENUE_CATEGORIES],
        },
    )


@get("/cash/book", opt=READ, sync_to_thread=True, include_in_schema=False)
def book_page(request: Request[Any, Any, Any], to: str = "", account: str = "") -> Template:
    p = require_principal(request)
    c = container_of(request)
    from_value = request.query_params.get("from", "")
    error = ""
    try:
        start, end = book_range(from_value, to, c.clock.now().astimezone(SAO_PAULO).date())
    except ValidationError as exc:
        error = _error_text(exc)
        start, end = book_range("", "", c.clock.now().astimezone(SAO_PAULO).date())
    with tenant_reader(c.engine, p.tenant_id) as conn:
        doc = cash_book(conn, p.tenant_id, date_from=start, date_to=end, account=account)
        accounts = list_accounts(conn, p.tenant_id)
    query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "account": account})
    return Template(
        "cash/book.html",
        context={
            "book": doc,
            "chart": balance_svg(doc),
            "accounts": accounts,
            "account": account,
            "start": start,
            "end": end,
            "query": query,
            "error": error,
            "sources": SOURCE_LABELS,
        },
    )


pages = [
    cash_home,
    imports_page,
    upload_page,
    preview_page,
    confirm_page,
    queue_page,
    movement_action,
    notice_retry,
    movement_page,
    book_page,
]
