"""JSON API of the energy context (`/api/v1/energy/...`).

Accounts: create → connect (the portal sends the SMS) → sms (the code) → connected, and a sync
starts; `sync` asks for another (202). Units and bills are read models filled by the sync; a
bill's PDF is fetched from the portal on first request and then served from the
content-addressed cache (`X-Cache: miss` / `hit`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, put
from litestar.params import Parameter

from projections.energy.portfolio import beneficiaries, list_accounts, list_bills, list_units
from retaguarda.energy.application import account_view
from retaguarda.energy.schemas import AccountIn, BeneficiariesIn, SmsIn
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal

READ = {"permission": "billing:read"}
WRITE = {"permission": "billing:write"}


@post("/energy/accounts", opt=WRITE, sync_to_thread=True, summary="Register a company's utility-portal login")
def create_account(request: Request[Any, Any, Any], data: AccountIn) -> Response[dict[str, Any]]:
    saved = container_of(request).energy.create_account(
        meta_of(request),
        name=data.name,
        document=data.document,
        phone_last4=data.phone_last4,
        distributor=data.distributor,
        customer_id=data.customer_id,
        portal=data.portal,
    )
    body = jsonable(account_view(saved.aggregate))
    return Response(body, status_code=201, headers={"Location": f"/api/v1/energy/accounts/{body['id']}"})


@get("/energy/accounts", opt=READ, sync_to_thread=True, summary="List utility-portal accounts")
def accounts(
    request: Request[Any, Any, Any],
    page: int = Parameter(default=1, ge=1, le=1_000_000),
    per_page: int = Parameter(default=50, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_accounts(conn, p.tenant_id, page=page, per_page=per_page))


@get(
    "/energy/accounts/{account_id:str}",
    opt=READ,
    sync_to_thread=True,
    summary="One account and its last sync",
)
def account(request: Request[Any, Any, Any], account_id: str) -> dict[str, Any]:
    p = require_principal(request)
    return jsonable(account_view(container_of(request).energy.get_account(p.tenant_id, account_id)))


@post(
    "/energy/accounts/{account_id:str}/connect",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Start the portal login: the SMS goes to the phone ending in phone_last4",
)
def connect(request: Request[Any, Any, Any], account_id: str) -> dict[str, Any]:
    saved = container_of(request).energy.connect(meta_of(request), account_id)
    acc = saved.aggregate
    return jsonable(
        {
            "id": str(acc.id),
            "transaction_id": acc.transaction_id,
            "status": acc.status,
            "sms_expires_at": acc.sms_expires_at,
        }
    )


@post(
    "/energy/accounts/{account_id:str}/sms",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Finish the login with the SMS code (422 naming code when wrong)",
)
def sms(request: Request[Any, Any, Any], account_id: str, data: SmsIn) -> dict[str, Any]:
    saved = container_of(request).energy.submit_sms(
        meta_of(request), account_id, transaction_id=data.transaction_id, code=data.code
    )
    return jsonable(account_view(saved.aggregate))


@post(
    "/energy/accounts/{account_id:str}/sync",
    opt=WRITE,
    sync_to_thread=True,
    status_code=202,
    summary="Sync units and bills now (one sync per account at a time)",
)
def sync(request: Request[Any, Any, Any], account_id: str) -> Response[dict[str, Any]]:
    acc, started = container_of(request).energy.request_sync(meta_of(request), account_id)
    body = jsonable({**account_view(acc), "started": started})
    return Response(body, status_code=202)


@get("/energy/units", opt=READ, sync_to_thread=True, summary="Consumer units (light list)")
def units(
    request: Request[Any, Any, Any],
    account: str = "",
    page: int = Parameter(default=1, ge=1, le=1_000_000),
    per_page: int = Parameter(default=100, ge=1, le=500),
) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(
            list_units(conn, p.tenant_id, account_id=account or None, page=page, per_page=per_page)
        )


@get(
    "/energy/units/{unit_id:str}/beneficiaries",
    opt=READ,
    sync_to_thread=True,
    summary="A plant's beneficiaries and their percents",
)
def unit_beneficiaries(request: Request[Any, Any, Any], unit_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        items = beneficiaries(conn, p.tenant_id, unit_id)
    if items is None:
        raise NotFoundError("ConsumerUnit", unit_id)
    return jsonable(
        {
            "items": items,
            "total_percent": sum(b["percent"] for b in items),
            "plant_keeps_percent": 100 - sum(b["percent"] for b in items),
        }
    )


@put(
    "/energy/units/{unit_id:str}/beneficiaries",
    opt=WRITE,
    sync_to_thread=True,
    summary="Record a new split (integer percents, sum at most 100)",
)
def set_beneficiaries(request: Request[Any, Any, Any], unit_id: str, data: BeneficiariesIn) -> dict[str, Any]:
    unit = container_of(request).energy.set_beneficiaries(meta_of(request), unit_id, data.items).aggregate
    return jsonable(
        {
            "items": [{"number": b["number"], "percent": b["percent"]} for b in unit.beneficiaries],
            "total_percent": unit.percent_total(),
        }
    )


@get(
    "/energy/units/{unit_id:str}/bills",
    opt=READ,
    sync_to_thread=True,
    summary="Bills of a unit, newest first",
)
def unit_bills(
    request: Request[Any, Any, Any],
    unit_id: str,
    page: int = Parameter(default=1, ge=1, le=1_000_000),
    per_page: int = Parameter(default=24, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    container_of(request).energy.get_unit(p.tenant_id, unit_id)  # 404 for another tenant's unit
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_bills(conn, p.tenant_id, unit_id=unit_id, page=page, per_page=per_page))


@get("/energy/bills/{bill_id:str}/pdf", opt=READ, sync_to_thread=True, summary="The bill's PDF (cached)")
def bill_pdf(request: Request[Any, Any, Any], bill_id: str) -> Response[bytes]:
    energy = container_of(request).energy
    data, hit = energy.bill_pdf(meta_of(request), bill_id)
    bill = energy.get_bill(require_principal(request).tenant_id, bill_id)
    name = f"fatura_{bill.unit_number}_{bill.reference_month}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "X-Cache": "hit" if hit else "miss",
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "private, max-age=0",
        },
    )


routes = [
    create_account,
    accounts,
    account,
    connect,
    sms,
    sync,
    units,
    unit_beneficiaries,
    set_beneficiaries,
    unit_bills,
    bill_pdf,
]
