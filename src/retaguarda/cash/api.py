"""JSON API of the cash context (`/api/v1/cash/...`). Reading needs `billing:read`, changing
`billing:write`, accounts and the PSP `billing:admin` (the finance role's permissions)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from projections.cash.ledger import (
    account_of_webhook,
    cash_book,
    failed_notices,
    get_account_row,
    get_import_row,
    get_movement_row,
    get_remittance_row,
    list_accounts,
    list_imports,
    list_movements,
    list_remittances,
)
from retaguarda.cash.domain import STATUSES, Receipt
from retaguarda.cash.schemas import AccountIn, MappingIn, MatchIn, NotRevenueIn, PspIn, RemittanceIn
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}
ADMIN = {"permission": "billing:admin"}
METHODS = {"api_pix": "pix", "return_file": "boleto", "statement": "transfer", "manual": "transfer"}


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "use the date format YYYY-MM-DD") from None


def _tenant(request: Request[Any, Any, Any]) -> str:
    return require_principal(request).tenant_id


def account_view(row: dict[str, Any]) -> dict[str, Any]:
    return jsonable(row)


def movement_view(row: dict[str, Any]) -> dict[str, Any]:
    view = jsonable(row)
    view["method"] = METHODS.get(row["source"], "transfer")
    view["links"] = {
        "invoice": f"/api/v1/billing/invoices/{row['invoice_id']}" if row.get("invoice_id") else None,
        "nfse": f"/api/v1/fiscal/nfse/{row['nfse_id']}" if row.get("nfse_id") else None,
    }
    return view


# Accounts -------------------------------------------------------------------------------------


@get("/cash/accounts", opt=READ, sync_to_thread=True, summary="Bank accounts")
def accounts(request: Request[Any, Any, Any]) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        return {"items": [account_view(a) for a in list_accounts(conn, _tenant(request))]}


@post("/cash/accounts", opt=ADMIN, sync_to_thread=True, status_code=201, summary="Register a bank account")
def create_account(request: Request[Any, Any, Any], data: AccountIn) -> Response[dict[str, Any]]:
    saved = container_of(request).cash.open_account(
        meta_of(request),
        name=data.name,
        bank=data.bank,
        agency=data.agency,
        number=data.number,
        opening_balance=data.opening_balance,
        opening_date=_date(data.opening_date or "", "opening_date"),
    )
    account_id = str(saved.aggregate.id)
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        row = get_account_row(conn, _tenant(request), account_id)
    return Response(
        account_view(row or {"id": account_id}),
        status_code=201,
        headers={"Location": f"/api/v1/cash/accounts/{account_id}"},
    )


def _account(request: Request[Any, Any, Any], account_id: str) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        row = get_account_row(conn, _tenant(request), account_id)
    if row is None:
        raise NotFoundError("CashAccount", account_id)
    return account_view(row)


@get("/cash/accounts/{account_id:str}", opt=READ, sync_to_thread=True, summary="One bank account")
def account(request: Request[Any, Any, Any], account_id: str) -> dict[str, Any]:
    return _account(request, account_id)


@put(
    "/cash/accounts/{account_id:str}/csv-mapping",
    opt=WRITE,
    sync_to_thread=True,
    summary="Save the CSV column mapping of the account's bank",
)
def save_mapping(request: Request[Any, Any, Any], account_id: str, data: MappingIn) -> dict[str, Any]:
    from retaguarda.cash.formats.csvfile import check_mapping

    try:
        clean = check_mapping(data.mapping)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationError(field, message) from None
    cash = container_of(request).cash
    acc = cash.get_account(_tenant(request), account_id)
    cash.save(acc) if acc.save_csv_mapping(meta_of(request), clean) else 0
    return _account(request, account_id)


@put(
    "/cash/accounts/{account_id:str}/psp",
    opt=ADMIN,
    sync_to_thread=True,
    summary="Configure the account's PSP (API Pix: OAuth2 client credentials + mTLS certificate)",
)
def configure_psp(request: Request[Any, Any, Any], account_id: str, data: PspIn) -> dict[str, Any]:
    c = container_of(request)
    saved = c.cash.configure_psp(
        meta_of(request),
        account_id,
        base_url=data.base_url,
        client_id=data.client_id,
        client_secret=data.client_secret,
        pix_key=data.pix_key,
        cert_pem=data.cert_pem,
        key_pem=data.key_pem,
        ca_pem=data.ca_pem,
    )
    token = saved.aggregate.webhook_token
    return {
        "id": account_id,
        "psp_configured": True,
        "webhook_url": f"{c.settings.base_url}/api/v1/cash/webhooks/pix/{token}",
    }


# Imports ---------------------------------------------------------------------------------------


def import_view(row: dict[str, Any]) -> dict[str, Any]:
    return jsonable(row)


@post(
    "/cash/imports",
    opt=WRITE,
    sync_to_thread=True,
    status_code=201,
    summary="Upload a statement or return file (multipart: file, account_id, format?, mapping?) → preview",
)
def create_import(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[dict[str, Any]]:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationError("file", "send the file as multipart/form-data field `file`")
    account_id = str(data.get("account_id") or "").strip()
    if not account_id:
        raise ValidationError("account_id", "account_id is required")
    fmt = str(data.get("format") or "").strip().lower()
    mapping = None
    if data.get("mapping"):
        try:
            mapping = json.loads(str(data["mapping"]))
            assert isinstance(mapping, dict)
        except (ValueError, AssertionError):
            raise ValidationError("mapping", "mapping is a JSON object of column names") from None
    cash = container_of(request).cash
    try:
        cash.get_account(_tenant(request), account_id)
    except NotFoundError:
        raise ValidationError("account_id", "unknown account") from None
    saved = cash.preview_import(
        meta_of(request), account_id, upload.file, filename=upload.filename or "", fmt=fmt, mapping=mapping
    )
    imp = saved.aggregate
    return Response(
        jsonable(
            {
                "id": str(imp.id),
                "status": imp.status,
                "account_id": imp.account_id,
                "format": imp.format,
                "filename": imp.filename,
                "lines": imp.lines,
                "credits": imp.credits,
                "debits": imp.debits,
                "duplicates": imp.duplicates,
                "credit_total": imp.credit_total,
                "debit_total": imp.debit_total,
            }
        ),
        status_code=201,
        headers={"Location": f"/api/v1/cash/imports/{imp.id}"},
    )


@get("/cash/imports", opt=READ, sync_to_thread=True, summary="Imports, newest first")
def imports(
    request: Request[Any, Any, Any],
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=100),
) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        return jsonable(list_imports(conn, _tenant(request), page, per_page))


@get("/cash/imports/{import_id:str}", opt=READ, sync_to_thread=True, summary="One import")
def get_import(request: Request[Any, Any, Any], import_id: str) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        row = get_import_row(conn, _tenant(request), import_id)
    if row is None:
        raise NotFoundError("CashImport", import_id)
    return import_view(row)


@get(
    "/cash/imports/{import_id:str}/lines",
    opt=READ,
    sync_to_thread=True,
    summary="The lines of an import, duplicates marked",
)
def import_lines(
    request: Request[Any, Any, Any],
    import_id: str,
    offset: int = Parameter(default=0, ge=0),
    limit: int = Parameter(default=50, ge=1, le=500),
) -> dict[str, Any]:
    items, total = container_of(request).cash.preview_lines(
        _tenant(request), import_id, offset=offset, limit=limit
    )
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@post(
    "/cash/imports/{import_id:str}/confirm",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Record the movements of a previewed import and match the credits",
)
def confirm_import(request: Request[Any, Any, Any], import_id: str) -> dict[str, Any]:
    c = container_of(request)
    result = c.cash.confirm_import(meta_of(request), import_id)
    return {
        "id": import_id,
        "status": "confirmed",
        "recorded": result.recorded,
        "matched": result.matched,
        "unmatched": result.unmatched,
        "duplicates": result.duplicates,
    }


# Movements -------------------------------------------------------------------------------------

STATUS_PATTERN = "^(|" + "|".join(STATUSES) + ")$"


@get("/cash/movements", opt=READ, sync_to_thread=True, summary="Movements (filter by status, account, dates)")
def movements(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern=STATUS_PATTERN),
    account: str = "",
    from_: Annotated[str, Parameter(query="from")] = "",
    to: str = "",
    kind: str = Parameter(default="", pattern="^(|credit|debit)$"),
    import_id: Annotated[str, Parameter(query="import")] = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=500),
) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        result = list_movements(
            conn,
            _tenant(request),
            status=status,
            account=account,
            date_from=_date(from_, "from"),
            date_to=_date(to, "to"),
            kind=kind,
            import_id=import_id,
            page=page,
            per_page=per_page,
        )
    result["items"] = [movement_view(r) for r in result["items"]]
    return jsonable(result)


def _movement(request: Request[Any, Any, Any], movement_id: str) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        row = get_movement_row(conn, _tenant(request), movement_id)
    if row is None:
        raise NotFoundError("CashMovement", movement_id)
    return row


def suggestions_for(container: Container, tenant_id: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    if row["kind"] != "credit" or row["status"] != "unmatched":
        return []
    matcher = container.cash.matcher(tenant_id)
    r = Receipt(
        amount=row["amount"],
        posted_on=row["posted_on"],
        txid=row["txid"],
        nosso_numero=row["nosso_numero"],
        payer_document=row["counterpart_document"],
        text=f"{row['memo']} {row['counterpart_name']}",
    )
    best = matcher.peek(r)
    found = ([best.invoice] if best else []) + [
        i for i in matcher.suggestions(r) if not best or i.id != best.invoice.id
    ]
    return [
        {
            "invoice_id": i.id,
            "number": i.number,
            "customer_id": i.customer_id,
            "balance": str(i.balance),
            "due_date": i.due_date.isoformat(),
            "rule": best.rule if best and i.id == best.invoice.id else "similar",
        }
        for i in found[:3]
    ]


@get("/cash/movements/{movement_id:str}", opt=READ, sync_to_thread=True, summary="One movement")
def movement(request: Request[Any, Any, Any], movement_id: str) -> dict[str, Any]:
    row = _movement(request, movement_id)
    view = movement_view(row)
    view["suggestions"] = suggestions_for(container_of(request), _tenant(request), row)
    return view


@post(
    "/cash/movements/{movement_id:str}/match",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary='Match a credit to an invoice ({"invoice_id"}: pays it) or to a customer ({"customer_id"})',
)
def match(request: Request[Any, Any, Any], movement_id: str, data: MatchIn) -> dict[str, Any]:
    c = container_of(request)
    meta = meta_of(request)
    if bool(data.invoice_id) == bool(data.customer_id):
        raise ValidationError("invoice_id", "send either invoice_id or customer_id")
    if data.invoice_id:
        try:
            c.billing.get_invoice(meta.tenant_id, data.invoice_id)
        except NotFoundError:
            raise ValidationError("invoice_id", "unknown invoice") from None
        mv = c.cash.match_to_invoice(meta, movement_id, data.invoice_id)
    else:
        try:
            c.customers.get_customer(meta.tenant_id, str(data.customer_id))
        except NotFoundError:
            raise ValidationError("customer_id", "unknown customer") from None
        mv = c.cash.match_to_customer(meta, movement_id, str(data.customer_id))
    del mv
    return movement_view(_movement(request, movement_id))


@post(
    "/cash/movements/{movement_id:str}/not-revenue",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Mark a movement as not revenue (with a category)",
)
def not_revenue(request: Request[Any, Any, Any], movement_id: str, data: NotRevenueIn) -> dict[str, Any]:
    c = container_of(request)
    c.cash.mark_not_revenue(meta_of(request), movement_id, data.category)
    return movement_view(_movement(request, movement_id))


# Cash book -------------------------------------------------------------------------------------


def book_range(from_: str, to: str, today: date) -> tuple[date, date]:
    end = _date(to, "to") or today
    start = _date(from_, "from") or (end - timedelta(days=29))
    if start > end:
        raise ValidationError("from", "from must not be after to")
    if (end - start).days > 366:
        raise ValidationError("from", "at most one year at a time")
    return start, end


@get(
    "/cash/book",
    opt=READ,
    sync_to_thread=True,
    summary="Cash book: balance per account and day, receipts by source, reconciliation (json|csv|xlsx)",
)
def book(
    request: Request[Any, Any, Any],
    from_: Annotated[str, Parameter(query="from")] = "",
    to: str = "",
    account: str = "",
    format: str = Parameter(default="json", pattern="^(json|csv|xlsx)$"),
) -> Any:
    from retaguarda.cash import book as export
    from retaguarda.shared.clock import SAO_PAULO

    c = container_of(request)
    start, end = book_range(from_, to, c.clock.now().astimezone(SAO_PAULO).date())
    with tenant_reader(c.engine, _tenant(request)) as conn:
        doc = cash_book(conn, _tenant(request), date_from=start, date_to=end, account=account)
    doc["receipts_by_method"] = {}
    for source, total in doc["receipts_by_source"].items():
        method = METHODS.get(source, "transfer")
        doc["receipts_by_method"][method] = doc["receipts_by_method"].get(method, 0) + total
    name = f"livro-caixa-{start:%Y%m%d}-{end:%Y%m%d}"
    if format == "csv":
        return Response(
            export.to_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            export.to_xlsx(doc),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return jsonable(doc)


# Remittance ------------------------------------------------------------------------------------


@post(
    "/cash/remittances",
    opt=WRITE,
    sync_to_thread=True,
    status_code=201,
    summary="CNAB 240 remessa registering the issued boletos not yet registered",
)
def create_remittance(request: Request[Any, Any, Any], data: RemittanceIn) -> Response[dict[str, Any]]:
    from retaguarda.cash.remittance import remittance_input

    c = container_of(request)
    meta = meta_of(request)
    beneficiary, titles = remittance_input(c, meta.tenant_id, data.account_id)
    saved = c.cash.generate_remittance(meta, data.account_id, beneficiary=beneficiary, titles=titles)
    r = saved.aggregate
    return Response(
        jsonable(
            {
                "id": str(r.id),
                "account_id": r.account_id,
                "sequence": r.sequence,
                "titles": len(r.invoice_ids),
                "total": r.total,
                "filename": r.filename,
                "download": f"/api/v1/cash/remittances/{r.id}/file",
            }
        ),
        status_code=201,
    )


@get("/cash/remittances", opt=READ, sync_to_thread=True, summary="Remittances, newest first")
def remittances(request: Request[Any, Any, Any]) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        return {"items": jsonable(list_remittances(conn, _tenant(request)))}


@get("/cash/remittances/{remittance_id:str}/file", opt=READ, sync_to_thread=True, summary="The remessa file")
def remittance_file(request: Request[Any, Any, Any], remittance_id: str) -> Response[bytes]:
    c = container_of(request)
    with tenant_reader(c.engine, _tenant(request)) as conn:
        row = get_remittance_row(conn, _tenant(request), remittance_id)
    if row is None:
        raise NotFoundError("CashRemittance", remittance_id)
    with c.cash.files.open(row["sha256"]) as fh:
        content = fh.read()
    return Response(
        content,
        media_type="text/plain; charset=latin-1",
        headers={"Content-Disposition": f'attachment; filename="{row["filename"]}"'},
    )


# API Pix webhook -------------------------------------------------------------------------------


async def _pix_webhook(request: Request[Any, Any, Any], token: str) -> dict[str, Any]:
    import anyio

    body = await request.body()
    return await anyio.to_thread.run_sync(_receive_pix, container_of(request), token, body)


def _receive_pix(container: Container, token: str, body: bytes) -> dict[str, Any]:
    from retaguarda.shared.meta import Meta, new_correlation_id

    with container.engine.connect() as conn:
        found = account_of_webhook(conn, token)
    if found is None:
        raise NotFoundError("Webhook", "pix")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ValidationError("pix", "the body is not JSON") from None
    items = data.get("pix") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValidationError("pix", 'the body must be {"pix": [...]}')
    meta = Meta(
        tenant_id=found["tenant_id"],
        actor="system:cash.pix_webhook",
        correlation_id=new_correlation_id(),
        at=container.clock.now(),
    )
    return container.cash.receive_pix_webhook(meta, found["id"], items)


@post(
    "/cash/webhooks/pix/{token:str}",
    opt={"public": True},
    status_code=200,
    summary="PSP webhook (BCB API Pix): only a trigger; each Pix is confirmed with the PSP",
)
async def pix_webhook(request: Request[Any, Any, Any], token: str) -> dict[str, Any]:
    return await _pix_webhook(request, token)


@post("/cash/webhooks/pix/{token:str}/pix", opt={"public": True}, status_code=200, include_in_schema=False)
async def pix_webhook_suffixed(request: Request[Any, Any, Any], token: str) -> dict[str, Any]:
    """The PSP appends `/pix` to the registered webhook URL."""
    return await _pix_webhook(request, token)


@get("/cash/pix-notices/failed", opt=READ, sync_to_thread=True, summary="Pix the PSP could not confirm")
def pix_failed(request: Request[Any, Any, Any]) -> dict[str, Any]:
    with tenant_reader(container_of(request).engine, _tenant(request)) as conn:
        return {"items": jsonable(failed_notices(conn, _tenant(request)))}


@post(
    "/cash/pix-notices/{notice_id:str}/retry",
    opt=WRITE,
    sync_to_thread=True,
    status_code=202,
    summary="Ask the PSP again about a failed Pix notice",
)
def pix_retry(request: Request[Any, Any, Any], notice_id: str) -> dict[str, Any]:
    container_of(request).cash.retry_pix_notice(meta_of(request), notice_id)
    return {"id": notice_id, "status": "received"}


routes = [
    accounts,
    create_account,
    account,
    save_mapping,
    configure_psp,
    create_import,
    imports,
    get_import,
    import_lines,
    confirm_import,
    movements,
    movement,
    match,
    not_revenue,
    book,
    create_remittance,
    remittances,
    remittance_file,
    pix_webhook,
    pix_webhook_suffixed,
    pix_failed,
    pix_retry,
]
