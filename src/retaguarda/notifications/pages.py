"""Admin "Outbox" page: every e-mail with its status, body (sandbox) and a retry button."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect

from projections.ops.outbox import count_by_status, list_emails
from retaguarda.i18n import N_
from retaguarda.notifications.api import OPS, routes, stored_body
from retaguarda.notifications.domain import STATUSES
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template


@get("/admin/outbox", opt=OPS, sync_to_thread=True, include_in_schema=False)
def outbox_page(request: Request[Any, Any, Any], status: str = "", page: int = 1,
                done: str = "") -> Template:
    p = require_principal(request)
    container = container_of(request)
    status = status if status in STATUSES else ""
    with tenant_reader(container.engine, p.tenant_id) as conn:
        result = list_emails(conn, p.tenant_id, status=status, page=max(1, page))
        counts = count_by_status(conn, p.tenant_id)
    for item in result["items"]:
        item["stored"] = stored_body(container, item["id"])
    flash = {"retried": N_("The e-mail was queued again."),
             "not-failed": N_("Only failed e-mails can be retried.")}
    return Template("ops/outbox.html", context={
        "result": result, "status": status, "statuses": STATUSES, "counts": counts,
        "sandbox": bool(getattr(container.mailer, "sandbox", False)),
        "flash": flash.get(done), "flash_kind": "error" if done == "not-failed" else "ok",
        "page_url": lambda n: "/admin/outbox?" + urlencode({"status": status, "page": n}),
    })


@post("/admin/outbox/{email_id:str}/retry", opt=OPS, sync_to_thread=True, include_in_schema=False)
def outbox_retry(request: Request[Any, Any, Any], email_id: str) -> Redirect:
    try:
        container_of(request).notifications.retry_email(meta_of(request), email_id)
    except ConflictError:
        return Redirect("/admin/outbox?done=not-failed", status_code=303)
    return Redirect("/admin/outbox?done=retried", status_code=303)


pages = [outbox_page, outbox_retry]
__all__ = ["pages", "routes"]
