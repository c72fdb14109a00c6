"""JSON API of the bell: `/api/v1/notifications` (the caller's own notices) and preferences."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post, put
from litestar.params import Parameter

from projections.notifications.inbox import inbox
from retaguarda.i18n import gettext as _
from retaguarda.i18n import readable_params
from retaguarda.notifications.inbox import CHANNELS, KINDS
from retaguarda.readdb import tenant_reader
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, require_principal


def translated(item: dict[str, Any]) -> dict[str, Any]:
    """Title and body in the reader's language, placeholders filled."""
    params = readable_params(item.get("params") or {})
    return {**item, "title": _(item["title"], **params), "body": _(item["body"],
                                                                   **params) if item["body"] else ""}


@get("/notifications", sync_to_thread=True, summary="My notifications (newest first) and the unread count")
def list_notifications(
    request: Request[Any, Any, Any],
    unread: bool = False,
    page: int = Parameter(default=1, ge=1, le=100_000),
    per_page: int = Parameter(default=20, ge=1, le=100),
) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = inbox(conn, p.tenant_id, p.actor, unread_only=unread, page=page, per_page=per_page)
    result["items"] = [translated(i) for i in result["items"]]
    return jsonable(result)


@post("/notifications/{notice_id:str}/read", sync_to_thread=True, status_code=200, summary="Mark one as read")
def mark_read(request: Request[Any, Any, Any], notice_id: str) -> dict[str, Any]:
    container_of(request).notifications.mark_read(meta_of(request), notice_id)
    return {"id": notice_id, "read": True}


@get("/notifications/preferences", sync_to_thread=True, summary="Kinds I turned off, per channel")
def preferences(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    muted = container_of(request).notifications.get_preferences(p.tenant_id, p.actor)
    return {"muted": muted, "kinds": list(KINDS), "channels": list(CHANNELS)}


@put("/notifications/preferences", sync_to_thread=True, summary="Turn kinds of notification off or on")
def set_preferences(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    saved = container_of(request).notifications.set_preferences(meta_of(request), data.get("muted"))
    return {"muted": saved.aggregate.muted, "kinds": list(KINDS), "channels": list(CHANNELS)}


routes = [list_notifications, mark_read, preferences, set_preferences]
