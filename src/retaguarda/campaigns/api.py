"""JSON API of the campaigns context (`/api/v1/campaigns…`): WordPress dispatch and status, receipts,
inbound replies (opt-out), campaign list/detail/cancel, dead letters, queues, opt-outs, settings."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import Parameter

from projections.campaigns.campaign_progress import (
    dead_letters,
    failure_reasons,
    get_campaign_row,
    list_campaigns,
    list_messages,
    provider_breakdown,
)
from projections.campaigns.opt_outs import get_settings_row, list_optouts
from retaguarda.campaigns.domain import CREDENTIAL_PROVIDERS, PROVIDERS, STATUSES, is_opt_out_reply
from retaguarda.campaigns.schemas import (
    CancelIn,
    DispatchIn,
    InboundIn,
    OptOutIn,
    SettingsIn,
    parse_send_at,
)
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, read_one, require_principal

DISPATCH = {"permission": "campaigns:dispatch"}
STATUS = {"permission": ("campaigns:read", "campaigns:dispatch")}
READ = {"permission": "campaigns:read"}
WRITE = {"permission": "campaigns:write"}
ADMIN = {"permission": "campaigns:admin"}
INBOUND = {"permission": ("campaigns:dispatch", "campaigns:write")}


def status_document(conn: Any, tenant_id: str, campaign_id: str) -> dict[str, Any] | None:
    """The WordPress status shape: status, totals, per-provider counts, updated_at."""
    row = get_campaign_row(conn, tenant_id, campaign_id)
    if row is None:
        return None
    return {"campaign_id": row["id"], "external_id": row["external_id"], "status": row["status"],
            "totals": row["totals"], "providers": provider_breakdown(conn, campaign_id),
            "recipients": row["recipients"], "progress": row["progress"], "updated_at": row["updated_at"]}


@post("/campaigns/dispatch", opt=DISPATCH, sync_to_thread=True, summary="Dispatch a campaign (WordPress)",
      status_code=202)
def dispatch(request: Request[Any, Any, Any], data: DispatchIn) -> Response[dict[str, Any]]:
    container = container_of(request)
    saved, created = container.campaigns.dispatch_campaign(
        meta_of(request), external_id=str(data.external_id).strip(), name=data.name, provider=data.provider,
        content=data.content, recipients=data.recipients, recipients_url=data.recipients_url,
        send_at=parse_send_at(data.send_at), options=data.options,
        batch_size=container.campaigns_tuning.batch_size)
    campaign = saved.aggregate
    return Response({"campaign_id": str(campaign.id), "status": campaign.status,
                     "external_id": campaign.external_id}, status_code=202 if created else 200,
                    headers={"Location": f"/api/v1/campaigns/{campaign.id}/status"})


@get("/campaigns/{campaign_id:str}/status", opt=STATUS, sync_to_thread=True, summary="Campaign status")
def status(request: Request[Any, Any, Any], campaign_id: str) -> dict[str, Any]:
    return jsonable(read_one(request, status_document, "Campaign", campaign_id))


@get("/campaigns", opt=READ, sync_to_thread=True, summary="List campaigns")
def list_(request: Request[Any, Any, Any], status: str = "", search: str = "",
          page: int = Parameter(default=1, ge=1),
          per_page: int = Parameter(default=20, ge=1, le=200)) -> dict[str, Any]:
    p = require_principal(request)
    if status and status not in STATUSES:
        raise ValidationError("status", f"status must be one of {', '.join(STATUSES)}")
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_campaigns(conn, p.tenant_id, status=status, search=search, page=page,
                                       per_page=per_page))


@get("/campaigns/{campaign_id:str}", opt=READ, sync_to_thread=True, summary="One campaign")
def read(request: Request[Any, Any, Any], campaign_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_campaign_row(conn, p.tenant_id, campaign_id)
        if row is None:
            raise NotFoundError("Campaign", campaign_id)
        row["providers"] = provider_breakdown(conn, campaign_id)
        row["failures"] = failure_reasons(conn, p.tenant_id, campaign_id)
    return jsonable(row)


@get("/campaigns/{campaign_id:str}/messages", opt=READ, sync_to_thread=True, summary="Messages of a campaign")
def messages(request: Request[Any, Any, Any], campaign_id: str, status: str = "",
             page: int = Parameter(default=1, ge=1),
             per_page: int = Parameter(default=50, ge=1, le=500)) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        if get_campaign_row(conn, p.tenant_id, campaign_id) is None:
            raise NotFoundError("Campaign", campaign_id)
        return jsonable(list_messages(conn, p.tenant_id, campaign_id, status=status, page=page,
                                      per_page=per_page))


@post("/campaigns/{campaign_id:str}/cancel", opt=WRITE, sync_to_thread=True, summary="Cancel a campaign",
      status_code=200)
def cancel(request: Request[Any, Any, Any], campaign_id: str, data: CancelIn | None = None) -> dict[str, Any]:
    container_of(request).campaigns.cancel_campaign(meta_of(request), campaign_id,
                                                            data.reason if data else "")
    return jsonable(read_one(request, status_document, "Campaign", campaign_id))


@post("/campaigns/receipts/{provider:str}", opt=INBOUND, status_code=200,
      summary="Delivery receipts from a provider")
async def receipts(request: Request[Any, Any, Any], provider: str) -> dict[str, Any]:
    import anyio

    body = await request.body()
    return await anyio.to_thread.run_sync(_apply_receipts, request, provider, body)


def _apply_receipts(request: Request[Any, Any, Any], provider: str, body: bytes) -> dict[str, Any]:
    from retaguarda.campaigns.pipeline import apply_receipts

    if provider not in CREDENTIAL_PROVIDERS:
        raise NotFoundError("provider", provider)
    container = container_of(request)
    counts = apply_receipts(container, meta_of(request), provider, body, dict(request.headers))
    return counts


@post("/campaigns/inbound", opt=INBOUND, sync_to_thread=True, status_code=200,
      summary="Inbound SMS reply (SAIR/PARE opt out)")
def inbound(request: Request[Any, Any, Any], data: InboundIn) -> dict[str, Any]:
    phone = data.phone or data.from_
    if not phone:
        raise ValidationError("from", "the sender's phone is required")
    if not is_opt_out_reply(data.text):
        return {"opted_out": False}
    saved = container_of(request).campaigns.opt_out(meta_of(request), phone, "reply", data.text[:100])
    return {"opted_out": True, "phone": saved.aggregate.phone}


@get("/campaigns/optouts", opt=READ, sync_to_thread=True, summary="Opt-out list")
def optouts(request: Request[Any, Any, Any], search: str = "", page: int = Parameter(default=1, ge=1)) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_optouts(conn, p.tenant_id, search=search, page=page))


@post("/campaigns/optouts", opt=WRITE, sync_to_thread=True, summary="Opt a phone out by hand")
def add_optout(request: Request[Any, Any, Any], data: OptOutIn) -> Response[dict[str, Any]]:
    saved = container_of(request).campaigns.opt_out(meta_of(request), data.phone, "manual", data.note)
    return Response({"phone": saved.aggregate.phone, "active": True}, status_code=201)


@delete("/campaigns/optouts/{phone:str}", opt=WRITE, sync_to_thread=True, status_code=200,
        summary="Remove an opt-out (consent given again)")
def remove_optout(request: Request[Any, Any, Any], phone: str, note: str = "") -> dict[str, Any]:
    saved = container_of(request).campaigns.remove_opt_out(meta_of(request), phone, note or "consent given again")
    return {"phone": saved.aggregate.phone, "active": False}


@get("/campaigns/dead-letters", opt=READ, sync_to_thread=True, summary="Dead letters per provider")
def dead(request: Request[Any, Any, Any], provider: str = "", page: int = Parameter(default=1, ge=1)) -> dict[str, Any]:
    p = require_principal(request)
    if provider and provider not in PROVIDERS:
        raise ValidationError("provider", "unknown provider")
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(dead_letters(conn, p.tenant_id, provider=provider, page=page))


def _dead_letter_action(name: str) -> Any:
    @post(f"/campaigns/messages/{{message_id:str}}/{name}", opt=WRITE, sync_to_thread=True, status_code=200,
          name=f"campaigns-message-{name}", summary=f"{name.title()} a dead-lettered message")
    def handler(request: Request[Any, Any, Any], message_id: str) -> dict[str, Any]:
        from retaguarda.campaigns.pipeline import enqueue, send_actor

        container = container_of(request)
        service = container.campaigns
        if name == "retry":
            message = service.retry_dead_letter(meta_of(request), message_id)
            enqueue(container, send_actor(message.provider), str(message.id))
        else:
            message = service.discard_dead_letter(meta_of(request), message_id)
        return {"id": str(message.id), "status": message.status, "dead": message.dead}

    return handler


@get("/campaigns/queues", opt=READ, sync_to_thread=True, summary="Queue dashboard data")
def queues(request: Request[Any, Any, Any]) -> dict[str, Any]:
    from retaguarda.campaigns.dashboard import queue_stats

    p = require_principal(request)
    return jsonable(queue_stats(container_of(request), p.tenant_id))


@get("/campaigns/settings", opt=ADMIN, sync_to_thread=True, summary="Campaign settings (no secrets)")
def get_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_settings_row(conn, p.tenant_id)
    return jsonable(row or {})


@put("/campaigns/settings", opt=ADMIN, sync_to_thread=True, summary="Change campaign settings")
def put_settings(request: Request[Any, Any, Any], data: SettingsIn) -> dict[str, Any]:
    for provider in list(data.providers) + list(data.credentials):
        if provider not in CREDENTIAL_PROVIDERS:
            raise ValidationError(f"providers.{provider}", "unknown provider")
    saved = container_of(request).campaigns.configure(
        meta_of(request), general=data.general, providers=data.providers, credentials=data.credentials,
        webhook_secret=data.webhook_secret)
    return jsonable(saved.aggregate.public_view())


@post("/campaigns/settings/test/{provider:str}", opt=ADMIN, sync_to_thread=True, status_code=200,
      summary="Test the connection to a provider")
def test_connection(request: Request[Any, Any, Any], provider: str) -> dict[str, Any]:
    from retaguarda.campaigns.pipeline import forget_settings, provider_for

    if provider not in CREDENTIAL_PROVIDERS:
        raise NotFoundError("provider", provider)
    container = container_of(request)
    p = require_principal(request)
    forget_settings(container, p.tenant_id)
    return provider_for(container, p.tenant_id, provider).test_connection()


routes = [
    dispatch, status, list_, optouts, add_optout, remove_optout, dead, queues, get_settings, put_settings,
    test_connection, receipts, inbound, read, messages, cancel,
    _dead_letter_action("retry"), _dead_letter_action("discard"),
]
