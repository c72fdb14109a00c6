"""HTML pages of the campaigns context: list, campaign page with live progress (HTMX polling),
queue dashboard (Bull-Board style), opt-outs and consent, provider settings with test connection."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.campaigns.campaign_progress import (
    dead_letters,
    failure_reasons,
    get_campaign_row,
    list_campaigns,
    list_messages,
    provider_breakdown,
)
from projections.campaigns.opt_outs import get_settings_row, list_optouts
from retaguarda.campaigns.domain import CREDENTIAL_PROVIDERS, PROVIDERS, STATUSES
from retaguarda.i18n import N_
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "campaigns:read"}
WRITE = {"permission": "campaigns:write"}
ADMIN = {"permission": "campaigns:admin"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@get("/campaigns", opt=READ, sync_to_thread=True, include_in_schema=False)
def campaign_list(request: Request[Any, Any, Any], status: str = "", search: str = "", page: int = 1) -> Template:
    p = require_principal(request)
    status = status if status in STATUSES else ""
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_campaigns(conn, p.tenant_id, status=status, search=search, page=max(1, page))

    def page_url(n: int) -> str:
        return "/campaigns?" + urlencode({"status": status, "search": search, "page": n})

    return Template("campaigns/list.html", context={"result": result, "status": status, "search": search,
                                                     "statuses": STATUSES, "page_url": page_url})


def _campaign(request: Request[Any, Any, Any], campaign_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_campaign_row(conn, p.tenant_id, campaign_id)
        if row is None:
            raise NotFoundError("Campaign", campaign_id)
        row["providers"] = provider_breakdown(conn, campaign_id)
        row["failures"] = failure_reasons(conn, p.tenant_id, campaign_id)
    return row


@get("/campaigns/{campaign_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def detail(request: Request[Any, Any, Any], campaign_id: str, tab: str = "overview", page: int = 1,
           status: str = "") -> Template:
    row = _campaign(request, campaign_id)
    p = require_principal(request)
    messages = None
    if tab == "messages":
        with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
            messages = list_messages(conn, p.tenant_id, campaign_id, status=status, page=max(1, page))
    return Template("campaigns/detail.html", context={
        "c": row, "tab": tab if tab in ("overview", "messages", "history") else "overview",
        "messages": messages, "status": status})


@get("/campaigns/{campaign_id:str}/progress", opt=READ, sync_to_thread=True, include_in_schema=False)
def progress(request: Request[Any, Any, Any], campaign_id: str) -> Template:
    """The fragment HTMX polls every second while the campaign is running."""
    return Template("campaigns/_progress.html", context={"c": _campaign(request, campaign_id)})


@post("/campaigns/{campaign_id:str}/cancel", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def cancel(request: Request[Any, Any, Any], campaign_id: str, data: dict[str, Any] = FORM) -> Any:
    try:
        container_of(request).campaigns.cancel_campaign(meta_of(request), campaign_id,
                                                                str(data.get("reason") or ""))
    except ConflictError:
        return Redirect(f"/campaigns/{campaign_id}")
    return Redirect(f"/campaigns/{campaign_id}")


@get("/campaigns/queues", opt=READ, sync_to_thread=True, include_in_schema=False)
def queues(request: Request[Any, Any, Any], provider: str = "", page: int = 1) -> Template:
    from retaguarda.campaigns.dashboard import queue_stats, sparkline

    p = require_principal(request)
    container = container_of(request)
    stats = queue_stats(container, p.tenant_id)
    provider = provider if provider in PROVIDERS else ""
    with tenant_reader(container.engine, p.tenant_id) as conn:
        dead = dead_letters(conn, p.tenant_id, provider=provider, page=max(1, page))
    template = "campaigns/_queues.html" if request.headers.get("hx-request") else "campaigns/queues.html"
    return Template(template, context={"stats": stats, "dead": dead, "provider": provider,
                                       "providers": PROVIDERS, "sparkline": sparkline})


@post("/campaigns/messages/{message_id:str}/{action:str}", opt=WRITE, sync_to_thread=True,
      include_in_schema=False)
def dead_letter_action(request: Request[Any, Any, Any], message_id: str, action: str) -> Any:
    from retaguarda.campaigns.pipeline import enqueue, send_actor

    container = container_of(request)
    try:
        if action == "retry":
            message = container.campaigns.retry_dead_letter(meta_of(request), message_id)
            enqueue(container, send_actor(message.provider), str(message.id))
        elif action == "discard":
            container.campaigns.discard_dead_letter(meta_of(request), message_id)
        else:
            raise ValidationError("action", "unknown action")
    except ConflictError:
        pass
    return Redirect("/campaigns/queues")


@get("/campaigns/optouts", opt=READ, sync_to_thread=True, include_in_schema=False)
def optouts(request: Request[Any, Any, Any], search: str = "", page: int = 1, error: str = "") -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_optouts(conn, p.tenant_id, search=search, page=max(1, page))
    return Template("campaigns/optouts.html", context={"result": result, "search": search, "error": error})


@post("/campaigns/optouts", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def optout_action(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    service = container_of(request).campaigns
    try:
        if data.get("action") == "remove":
            service.remove_opt_out(meta_of(request), str(data.get("phone", "")),
                                           str(data.get("note") or "consent given again"))
        else:
            service.opt_out(meta_of(request), str(data.get("phone", "")), "manual",
                                    str(data.get("note") or ""))
    except (ValidationError, ConflictError, NotFoundError) as exc:
        return Redirect("/campaigns/optouts?" + urlencode({"error": str(exc)}))
    return Redirect("/campaigns/optouts")


@get("/campaigns/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0, error: str = "") -> Template:
    from retaguarda.campaigns.providers import CREDENTIAL_FIELDS, SECRET_FIELDS

    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        row = get_settings_row(conn, p.tenant_id)
    return Template("campaigns/settings.html", context={
        "s": row, "providers": CREDENTIAL_PROVIDERS, "fields": CREDENTIAL_FIELDS, "secret_fields": SECRET_FIELDS,
        "flash": N_("Settings saved.") if saved else None, "error": error, "test": None})


@post("/campaigns/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_save(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    from retaguarda.campaigns.pipeline import forget_settings

    general = {k: data[k] for k in ("quiet_start", "quiet_end", "timezone", "webhook_url",
                                    "backoff_initial_seconds", "backoff_max_seconds") if k in data}
    providers: dict[str, dict[str, Any]] = {}
    credentials: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if "." not in key:
            continue
        kind, provider, field = (key.split(".", 2) + ["", ""])[:3]
        if provider not in CREDENTIAL_PROVIDERS or not field:
            continue
        if kind == "opt" and value not in ("", None):
            providers.setdefault(provider, {})[field] = value
        elif kind == "cred" and value not in ("", None):  # empty = keep the stored value
            credentials.setdefault(provider, {})[field] = value
    try:
        container_of(request).campaigns.configure(
            meta_of(request), general=general, providers=providers, credentials=credentials,
            webhook_secret=str(data.get("webhook_secret") or "") or None)
    except ValidationError as exc:
        return Redirect("/campaigns/settings?" + urlencode({"error": str(exc)}))
    forget_settings(container_of(request), require_principal(request).tenant_id)
    return Redirect("/campaigns/settings?saved=1")


@post("/campaigns/settings/test/{provider:str}", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_test(request: Request[Any, Any, Any], provider: str) -> Template:
    from retaguarda.campaigns.pipeline import forget_settings, provider_for

    if provider not in CREDENTIAL_PROVIDERS:
        raise NotFoundError("provider", provider)
    container = container_of(request)
    p = require_principal(request)
    forget_settings(container, p.tenant_id)
    result = provider_for(container, p.tenant_id, provider).test_connection()
    return Template("campaigns/_test.html", context={"provider": provider, "result": result})


pages = [campaign_list, queues, optouts, optout_action, settings_page, settings_save, settings_test,
         dead_letter_action, detail, progress, cancel]
