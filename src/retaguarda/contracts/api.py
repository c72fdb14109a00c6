"""JSON API of the contracts context (`/api/v1/contracts/...`).

Staff with `customers:read` read contracts; `customers:write` creates, amends, sends for
signature, suspends, resumes, cancels and renews, and edits templates; activating a paper
contract needs a manager or admin (and a reason). Provider settings need `users:admin`. The
Clicksign webhook is public and authenticated by its HMAC.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import Parameter

from projections.contracts.contract_list import list_contracts, list_templates
from retaguarda.contracts.application import SECRET_SETTINGS, contract_view, version_view
from retaguarda.contracts.domain import STATUSES
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import PermissionDeniedError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, correlation_id_of, meta_of, require_principal

READ = {"permission": "customers:read"}
WRITE = {"permission": "customers:write"}
ADMIN = {"permission": "users:admin"}
MANAGERS = ("admin", "manager")
STATUS_PATTERN = "^(|open|" + "|".join(STATUSES) + ")$"


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Any = None
    body: Any = None


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Any = None
    customer_id: str = ""
    plan_id: str = ""


class ContractIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: Any = None
    plan_id: Any = None
    template_id: Any = None
    start_date: Any = None
    loyalty_months: Any = 12
    auto_renew: Any = True
    price: Any = None
    end_date: Any = None
    due_day: Any = 10
    renewal_months: Any = 12
    loyalty_fee: Any = None


class AmendIn(msgspec.Struct, forbid_unknown_fields=True):
    price: Any = None
    plan_id: Any = None
    text: Any = None
    note: Any = ""


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Any = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Any = None
    waive_fee: bool = False


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    provider: str | msgspec.UnsetType = msgspec.UNSET
    link_hours: int | msgspec.UnsetType = msgspec.UNSET
    clicksign_url: str | msgspec.UnsetType = msgspec.UNSET
    clicksign_token: str | msgspec.UnsetType = msgspec.UNSET
    clicksign_webhook_secret: str | msgspec.UnsetType = msgspec.UNSET


def parse_iso_date(value: Any, field: str, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationError(field, f"{field} is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(field, f"{field} must be a date (YYYY-MM-DD)") from None


def money_in(value: Any) -> Any:
    """JSON numbers are accepted as their shortest decimal text (119.9 → "119.9"); strings as is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def _service(request: Request[Any, Any, Any]) -> Any:
    return container_of(request).contracts


def _view(contract: Any) -> dict[str, Any]:
    return jsonable(contract_view(contract, include_text=True))


# Templates -----------------------------------------------------------------------------------


@post("/contracts/templates", opt=WRITE, sync_to_thread=True, summary="Create a contract template")
def create_template(request: Request[Any, Any, Any], data: TemplateIn) -> Response[dict[str, Any]]:
    saved = _service(request).create_template(meta_of(request), name=data.name, body=data.body)
    t = saved.aggregate
    return Response(
        {"id": str(t.id), "name": t.name},
        status_code=201,
        headers={"Location": f"/api/v1/contracts/templates/{t.id}"},
    )


@get("/contracts/templates", opt=READ, sync_to_thread=True, summary="Contract templates")
def templates(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable({"items": list_templates(conn, p.tenant_id)})


@get("/contracts/templates/{template_id:str}", opt=READ, sync_to_thread=True, summary="One template")
def read_template(request: Request[Any, Any, Any], template_id: str) -> dict[str, Any]:
    t = _service(request).get_template(require_principal(request).tenant_id, template_id)
    return {"id": str(t.id), "name": t.name, "body": t.body, "version": t.version}


@put("/contracts/templates/{template_id:str}", opt=WRITE, sync_to_thread=True, summary="Change a template")
def update_template(request: Request[Any, Any, Any], template_id: str, data: TemplateIn) -> dict[str, Any]:
    saved = _service(request).update_template(meta_of(request), template_id, name=data.name, body=data.body)
    t = saved.aggregate
    return {"id": str(t.id), "name": t.name, "body": t.body, "version": t.version}


@post(
    "/contracts/templates/preview",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Render a template body for a customer (or sample data)",
)
def preview(request: Request[Any, Any, Any], data: PreviewIn) -> dict[str, Any]:
    p = require_principal(request)
    if not isinstance(data.body, str) or not data.body.strip():
        raise ValidationError("body", "body is required")
    return {"text": _service(request).preview(p.tenant_id, data.body, data.customer_id, data.plan_id)}


# Contracts -----------------------------------------------------------------------------------


@post("/contracts", opt=WRITE, sync_to_thread=True, summary="Create a contract (draft, version 1)")
def create_contract(request: Request[Any, Any, Any], data: ContractIn) -> Response[dict[str, Any]]:
    errors: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for field, value, required in (("start_date", data.start_date, True), ("end_date", data.end_date, False)):
        try:
            dates[field] = parse_iso_date(value, field, required)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        refs, _found = _service(request).check_refs(
            require_principal(request).tenant_id, data.customer_id, data.plan_id, data.template_id
        )
        raise ValidationError.many({**refs, **errors})
    saved = _service(request).create_contract(
        meta_of(request),
        customer_id=data.customer_id,
        plan_id=data.plan_id,
        template_id=data.template_id,
        start_date=dates["start_date"],
        end_date=dates["end_date"],
        loyalty_months=data.loyalty_months,
        auto_renew=data.auto_renew,
        price=money_in(data.price),
        due_day=data.due_day,
        renewal_months=data.renewal_months,
        loyalty_fee=money_in(data.loyalty_fee),
    )
    c = saved.aggregate
    return Response(_view(c), status_code=201, headers={"Location": f"/api/v1/contracts/{c.id}"})


@get("/contracts", opt=READ, sync_to_thread=True, summary="List contracts")
def list_(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern=STATUS_PATTERN),
    customer: str = "",
    ending_before: str = Parameter(default="", description="YYYY-MM-DD: end date on or before"),
    search: str = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    before = parse_iso_date(ending_before, "ending_before", required=False)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(
            list_contracts(
                conn,
                p.tenant_id,
                status=status,
                customer=customer,
                ending_before=before,
                search=search,
                page=page,
                per_page=per_page,
            )
        )


@get("/contracts/{contract_id:str}", opt=READ, sync_to_thread=True, summary="One contract")
def read(request: Request[Any, Any, Any], contract_id: str) -> dict[str, Any]:
    return _view(_service(request).get_contract(require_principal(request).tenant_id, contract_id))


@get(
    "/contracts/{contract_id:str}/versions/{n:int}",
    opt=READ,
    sync_to_thread=True,
    summary="One version of a contract, as it was",
)
def read_version(request: Request[Any, Any, Any], contract_id: str, n: int) -> dict[str, Any]:
    c = _service(request).get_contract(require_principal(request).tenant_id, contract_id)
    return jsonable(version_view(c, n))


@get("/contracts/{contract_id:str}/pdf", opt=READ, sync_to_thread=True, summary="PDF of a version")
def pdf(
    request: Request[Any, Any, Any], contract_id: str, version: int | None = Parameter(default=None, ge=1)
) -> Response[bytes]:
    service = _service(request)
    c = service.get_contract(require_principal(request).tenant_id, contract_id)
    n = version or c.version_number
    body = service.pdf_of(c, n)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{c.number}-v{n}.pdf"'},
    )


@post(
    "/contracts/{contract_id:str}/amend",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Amend price, plan or clause text (new version)",
)
def amend(request: Request[Any, Any, Any], contract_id: str, data: AmendIn) -> dict[str, Any]:
    saved = _service(request).amend(
        meta_of(request),
        contract_id,
        price=money_in(data.price),
        plan_id=data.plan_id,
        text=data.text,
        note=data.note,
    )
    return _view(saved.aggregate)


@post(
    "/contracts/{contract_id:str}/send-for-signature",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Send the current version for e-signature",
)
def send_for_signature(request: Request[Any, Any, Any], contract_id: str) -> dict[str, Any]:
    from litestar.exceptions import HTTPException

    from retaguarda.integrations.errors import PermanentError, TransientError

    try:
        sent = _service(request).send_for_signature(meta_of(request), contract_id)
    except TransientError as exc:
        raise HTTPException(
            status_code=503,
            detail=f"the signature provider is unavailable ({exc}); nothing was recorded, try again",
            headers={"Retry-After": "30"},
        ) from None
    except PermanentError as exc:
        raise HTTPException(
            status_code=502, detail=f"the signature provider refused the request: {exc}"
        ) from None
    return {**_view(sent.saved.aggregate), "signing_url": sent.signing_url, "provider": sent.provider}


@post(
    "/contracts/{contract_id:str}/activate",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Activate a paper contract signed outside (managers; reason required)",
)
def activate(request: Request[Any, Any, Any], contract_id: str, data: ReasonIn) -> dict[str, Any]:
    if require_principal(request).role not in MANAGERS:
        raise PermissionDeniedError("only a manager or an admin may activate a contract signed on paper")
    saved = _service(request).activate(meta_of(request), contract_id, data.reason)
    return _view(saved.aggregate)


@post(
    "/contracts/{contract_id:str}/suspend",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Suspend (billing blocks the subscription)",
)
def suspend(request: Request[Any, Any, Any], contract_id: str, data: ReasonIn) -> dict[str, Any]:
    saved = _service(request).suspend(meta_of(request), contract_id, data.reason)
    return _view(saved.aggregate)


@post(
    "/contracts/{contract_id:str}/resume",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Resume a suspended contract",
)
def resume(request: Request[Any, Any, Any], contract_id: str, data: ReasonIn) -> dict[str, Any]:
    saved = _service(request).resume(meta_of(request), contract_id, data.reason)
    return _view(saved.aggregate)


@post(
    "/contracts/{contract_id:str}/cancel",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Cancel (loyalty fee pro rata to the months left; billing ends the subscription)",
)
def cancel(request: Request[Any, Any, Any], contract_id: str, data: CancelIn) -> dict[str, Any]:
    saved, fee = _service(request).cancel(
        meta_of(request), contract_id, data.reason, waive_fee=data.waive_fee
    )
    return {**_view(saved.aggregate), "cancellation_fee": str(fee)}


@post(
    "/contracts/{contract_id:str}/renew",
    opt=WRITE,
    sync_to_thread=True,
    status_code=200,
    summary="Renew for another period (new version)",
)
def renew(request: Request[Any, Any, Any], contract_id: str) -> dict[str, Any]:
    saved = _service(request).renew(meta_of(request), contract_id)
    return _view(saved.aggregate)


# Settings and webhook ------------------------------------------------------------------------


def _settings_view(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (bool(v) if k in SECRET_SETTINGS else v) for k, v in values.items()}


@get("/contracts/settings", opt=ADMIN, sync_to_thread=True, summary="E-signature provider settings")
def read_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _settings_view(_service(request).settings_for(require_principal(request).tenant_id))


@put(
    "/contracts/settings", opt=ADMIN, sync_to_thread=True, summary="Change the e-signature provider settings"
)
def change_settings(request: Request[Any, Any, Any], data: SettingsIn) -> dict[str, Any]:
    values = {k: getattr(data, k) for k in data.__struct_fields__ if getattr(data, k) is not msgspec.UNSET}
    _service(request).configure(meta_of(request), values)
    return _settings_view(_service(request).settings_for(require_principal(request).tenant_id))


@post(
    "/contracts/webhooks/clicksign/{tenant_id:str}",
    opt={"public": True},
    status_code=200,
    summary="Clicksign webhook (HMAC-SHA256 in Content-Hmac)",
)
async def clicksign_webhook(request: Request[Any, Any, Any], tenant_id: str) -> dict[str, Any]:
    import anyio

    raw = await request.body()
    container = container_of(request)
    service = container.contracts
    result = await anyio.to_thread.run_sync(
        lambda: service.accept_clicksign_webhook(
            tenant_id,
            raw,
            request.headers.get("content-hmac"),
            container.clock.now(),
            correlation_id_of(request),
        )
    )
    return {"result": result}


routes = [
    create_template,
    templates,
    preview,
    read_template,
    update_template,
    read_settings,
    change_settings,
    clicksign_webhook,
    create_contract,
    list_,
    read,
    read_version,
    pdf,
    amend,
    send_for_signature,
    activate,
    suspend,
    resume,
    cancel,
    renew,
]
