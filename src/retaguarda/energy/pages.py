"""HTML pages of the energy context: companies with their connection status and the "Conectar"
flow (SMS code with a countdown), units (bills loaded on expand with HTMX: PIX copy button,
barcode, PDF), a plant's beneficiaries, and the bills due in the next 7 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.energy.portfolio import beneficiaries, bills_due, list_accounts, list_bills, list_units, unit
from retaguarda.energy.application import account_view
from retaguarda.readdb import tenant_reader
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    return str(getattr(exc, "message", "") or exc)


@get("/energy", opt=READ, sync_to_thread=True, include_in_schema=False)
def companies(request: Request[Any, Any, Any], error: str = "") -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_accounts(conn, p.tenant_id, per_page=200)
    return Template(
        "energy/companies.html",
        context={"result": result, "error": error, "doc": format_document},
        status_code=200,
    )


@post("/energy/accounts", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create(request: Request[Any, Any, Any], data: Annotated[dict[str, Any], FORM]) -> Any:
    c = container_of(request)
    try:
        saved = c.energy.create_account(
            meta_of(request),
            name=data.get("name"),
            document=data.get("document"),
            phone_last4=data.get("phone_last4"),
        )
    except ValidationError as exc:
        return companies.fn(request, error=_error_text(exc))
    c.wait_for(saved.position)
    return Redirect(f"/energy/accounts/{saved.aggregate.id}")


@get("/energy/accounts/{account_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def company(request: Request[Any, Any, Any], account_id: str, error: str = "") -> Template:
    p = require_principal(request)
    c = container_of(request)
    account = account_view(c.energy.get_account(p.tenant_id, account_id))
    with tenant_reader(c.engine, p.tenant_id) as conn:
        units = list_units(conn, p.tenant_id, account_id=account_id, per_page=500)["items"]
    seconds = 0
    if account["status"] == "awaiting_sms" and account["sms_expires_at"]:
        seconds = max(0, int((account["sms_expires_at"] - c.clock.now()).total_seconds()))
    return Template(
        "energy/company.html",
        context={
            "a": account,
            "units": units,
            "error": error,
            "seconds": seconds,
            "doc": format_document,
            "running": bool(account["last_sync"] and account["last_sync"]["status"] == "running"),
        },
        status_code=200,
    )


@get("/energy/accounts/{account_id:str}/status", opt=READ, sync_to_thread=True, include_in_schema=False)
def status(request: Request[Any, Any, Any], account_id: str) -> Template:
    """The live status fragment (polled by HTMX while a sync runs)."""
    p = require_principal(request)
    account = account_view(container_of(request).energy.get_account(p.tenant_id, account_id))
    return Template(
        "energy/_status.html",
        context={
            "a": account,
            "running": bool(account["last_sync"] and account["last_sync"]["status"] == "running"),
        },
    )


@post("/energy/accounts/{account_id:str}/connect", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def connect(request: Request[Any, Any, Any], account_id: str) -> Any:
    try:
        container_of(request).energy.connect(meta_of(request), account_id)
    except (ValidationError, ConflictError) as exc:
        return company.fn(request, account_id, error=_error_text(exc))
    return Redirect(f"/energy/accounts/{account_id}")


@post("/energy/accounts/{account_id:str}/sms", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def sms(request: Request[Any, Any, Any], account_id: str, data: Annotated[dict[str, Any], FORM]) -> Any:
    try:
        container_of(request).energy.submit_sms(
            meta_of(request), account_id, transaction_id=data.get("transaction_id"), code=data.get("code")
        )
    except (ValidationError, ConflictError) as exc:
        return company.fn(request, account_id, error=_error_text(exc))
    return Redirect(f"/energy/accounts/{account_id}")


@post("/energy/accounts/{account_id:str}/sync", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def sync(request: Request[Any, Any, Any], account_id: str) -> Any:
    try:
        container_of(request).energy.request_sync(meta_of(request), account_id)
    except ConflictError as exc:
        return company.fn(request, account_id, error=_error_text(exc))
    return Redirect(f"/energy/accounts/{account_id}")


@get("/energy/units/{unit_id:str}/bills", opt=READ, sync_to_thread=True, include_in_schema=False)
def unit_bills(request: Request[Any, Any, Any], unit_id: str) -> Template:
    """Fragment: the unit's bills, loaded when its row is expanded."""
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        if unit(conn, p.tenant_id, unit_id) is None:
            raise NotFoundError("ConsumerUnit", unit_id)
        bills = list_bills(conn, p.tenant_id, unit_id=unit_id, per_page=24)["items"]
    return Template("energy/_bills.html", context={"bills": bills})


@get("/energy/units/{unit_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def plant(request: Request[Any, Any, Any], unit_id: str) -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        u = unit(conn, p.tenant_id, unit_id)
        if u is None:
            raise NotFoundError("ConsumerUnit", unit_id)
        items = beneficiaries(conn, p.tenant_id, unit_id) or []
    total = sum(b["percent"] for b in items)
    return Template(
        "energy/plant.html", context={"u": u, "items": items, "total": total, "keeps": 100 - total}
    )


@get("/energy/due", opt=READ, sync_to_thread=True, include_in_schema=False)
def due(request: Request[Any, Any, Any]) -> Template:
    p = require_principal(request)
    c = container_of(request)
    today = c.clock.now().astimezone(SAO_PAULO).date()
    with tenant_reader(c.engine, p.tenant_id) as conn:
        bills = bills_due(conn, p.tenant_id, today, today + timedelta(days=7))
    return Template("energy/due.html", context={"bills": bills, "today": today})


@get("/energy/bills/{bill_id:str}/pdf", opt=READ, sync_to_thread=True, include_in_schema=False)
def bill_pdf(request: Request[Any, Any, Any], bill_id: str) -> Response[bytes]:
    data, hit = container_of(request).energy.bill_pdf(meta_of(request), bill_id)
    return Response(data, media_type="application/pdf", headers={"X-Cache": "hit" if hit else "miss"})


pages = [companies, create, company, status, connect, sms, sync, unit_bills, plant, due, bill_pdf]
