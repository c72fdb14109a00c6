"""JSON API of the outbox (`/api/v1/ops/outbox`), permission `ops:admin`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import Parameter

from projections.ops.outbox import get_email_row, list_emails
from retaguarda.readdb import tenant_reader
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, read_one, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

OPS = {"permission": "ops:admin"}


def email_row(request: Request[Any, Any, Any], email_id: str) -> dict[str, Any]:
    return read_one(request, get_email_row, "Email", email_id)


def stored_body(container: Container, email_id: str) -> dict[str, Any] | None:
    """The sandbox mailer's last stored copy (None with a real SMTP server)."""
    stored = getattr(container.mailer, "stored", None)
    if stored is None:
        return None
    copies = stored(email_id)
    return copies[-1] if copies else None


@get("/ops/outbox", opt=OPS, sync_to_thread=True, summary="Outgoing e-mails and their status")
def outbox(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern="^(|queued|sent|failed)$"),
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_emails(conn, p.tenant_id, status=status, page=page, per_page=per_page))


@get("/ops/outbox/{email_id:str}", opt=OPS, sync_to_thread=True, summary="One e-mail")
def outbox_email(request: Request[Any, Any, Any], email_id: str) -> dict[str, Any]:
    row = email_row(request, email_id)
    body = stored_body(container_of(request), email_id)
    return jsonable({**row, "body": body["text"] if body else None})


@post("/ops/outbox/{email_id:str}/retry", opt=OPS, sync_to_thread=True, status_code=202,
      summary="Send a failed e-mail again")
def retry(request: Request[Any, Any, Any], email_id: str) -> dict[str, Any]:
    container_of(request).notifications.retry_email(meta_of(request), email_id)
    return jsonable(email_row(request, email_id))


routes = [outbox, outbox_email, retry]
