"""JSON API of the support context (`/api/v1/support/...`).

Staff need `support:read` / `support:write` (settings: `support:admin`); a portal customer
(`support:own`) reaches the same ticket routes but only for their own customer's tickets, sees
public comments only, and may comment publicly, reopen within the window or close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from projections.support.ticket_queue import SLA_FILTERS, list_tickets
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.support.application import actor_of, ticket_view
from retaguarda.support.domain import PRIORITIES, STATUSES
from retaguarda.support.schemas import (
    AssignIn,
    CalendarIn,
    CategoriesIn,
    CommentIn,
    StatusIn,
    TicketIn,
    TicketPatch,
)
from retaguarda.web.context import container_of, meta_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

READ_ANY = {"permission": ("support:read", "support:own")}
WRITE_ANY = {"permission": ("support:write", "support:own")}
WRITE = {"permission": "support:write"}
SETTINGS_READ = {"permission": ("support:read", "support:admin")}
ADMIN = {"permission": "support:admin"}
SLA_PATTERN = "^(|" + "|".join(SLA_FILTERS) + ")$"
STATUS_PATTERN = "^(|active|" + "|".join(STATUSES) + ")$"
PRIORITY_PATTERN = "^(|" + "|".join(PRIORITIES) + ")$"


def _view(request: Request[Any, Any, Any], ticket: Any) -> dict[str, Any]:
    return jsonable(ticket_view(ticket, actor_of(require_principal(request))))


def _load(request: Request[Any, Any, Any], ticket_id: str) -> Any:
    p = require_principal(request)
    return container_of(request).support.get_ticket(p.tenant_id, actor_of(p), ticket_id)


@post("/support/tickets", opt=WRITE_ANY, sync_to_thread=True, summary="Open a ticket")
def open_ticket(request: Request[Any, Any, Any], data: TicketIn) -> Response[dict[str, Any]]:
    p = require_principal(request)
    saved = container_of(request).support.open_ticket(
        meta_of(request), actor_of(p), customer_id=data.customer_id, title=data.title,
        description=data.description, priority=data.priority, channel=data.channel, category=data.category)
    ticket_id = str(saved.aggregate.id)
    return Response(_view(request, saved.aggregate), status_code=201,
                    headers={"Location": f"/api/v1/support/tickets/{ticket_id}"})


@get("/support/tickets", opt=READ_ANY, sync_to_thread=True, summary="List tickets")
def list_(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern=STATUS_PATTERN),
    priority: str = Parameter(default="", pattern=PRIORITY_PATTERN),
    assignee: str = Parameter(default="", description='a user id, "me" or "none" (unassigned)'),
    customer: str = "",
    sla: str = Parameter(default="", pattern=SLA_PATTERN),
    search: str = "",
    sort: str = Parameter(default="newest", pattern="^(newest|due)$"),
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    actor = actor_of(p)
    if not actor.staff:
        # A portal user sees their customer's tickets only (asking for another's finds nothing).
        own = actor.customer_id or "\x00none"
        customer = own if customer in ("", own) else "\x00none"
    if assignee == "me":
        assignee = p.actor
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        result = list_tickets(conn, p.tenant_id, container.clock.now(), status=status, priority=priority,
                              assignee=assignee, customer=customer, sla=sla, search=search, sort=sort,
                              page=page, per_page=per_page)
    if not actor.staff:
        for item in result["items"]:
            item.pop("internal_notes", None)
    return jsonable(result)


@get("/support/tickets/{ticket_id:str}", opt=READ_ANY, sync_to_thread=True, summary="One ticket")
def read(request: Request[Any, Any, Any], ticket_id: str) -> dict[str, Any]:
    return _view(request, _load(request, ticket_id))


@patch("/support/tickets/{ticket_id:str}", opt=WRITE, sync_to_thread=True, summary="Edit a ticket")
def update(request: Request[Any, Any, Any], ticket_id: str, data: TicketPatch) -> dict[str, Any]:
    changes = data.changes()
    if not changes:
        raise ValidationError("body", "send at least one field to change")
    saved = container_of(request).support.update_ticket(meta_of(request), ticket_id, **changes)
    return _view(request, saved.aggregate)


@post("/support/tickets/{ticket_id:str}/assign", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Assign a ticket")
def assign(request: Request[Any, Any, Any], ticket_id: str, data: AssignIn) -> dict[str, Any]:
    assignee = require_principal(request).actor if data.assignee_id == "me" else data.assignee_id
    saved = container_of(request).support.assign(meta_of(request), ticket_id, assignee)
    return _view(request, saved.aggregate)


@post("/support/tickets/{ticket_id:str}/comments", opt=WRITE_ANY, sync_to_thread=True, status_code=201,
      summary="Comment on a ticket")
def comment(request: Request[Any, Any, Any], ticket_id: str, data: CommentIn) -> dict[str, Any]:
    p = require_principal(request)
    saved = container_of(request).support.add_comment(meta_of(request), actor_of(p), ticket_id,
                                                      body=data.body, visibility=data.visibility)
    return _view(request, saved.aggregate)


def read_upload(container: Container, upload: Any) -> tuple[str, bytes]:
    if not isinstance(upload, UploadFile):
        raise ValidationError("file", "send the file as multipart/form-data field `file`")
    store = container.support_attachments
    data = upload.file.read(store.max_bytes + 1)
    return upload.filename or "attachment", data


@post("/support/tickets/{ticket_id:str}/attachments", opt=WRITE_ANY, sync_to_thread=True, status_code=201,
      summary="Attach a file (multipart: file, body, visibility)")
def attach(request: Request[Any, Any, Any], ticket_id: str,
           data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    actor = actor_of(p)
    container.support.get_ticket(p.tenant_id, actor, ticket_id)  # 404 before storing anything
    filename, content = read_upload(container, data.get("file"))
    attachment = container.support_attachments.put(filename, content)
    saved = container.support.add_comment(meta_of(request), actor, ticket_id, body=data.get("body", ""),
                                          visibility=data.get("visibility") or "public",
                                          attachments=[attachment])
    return _view(request, saved.aggregate)


@get("/support/tickets/{ticket_id:str}/attachments/{attachment_id:str}", opt=READ_ANY, sync_to_thread=True,
     summary="Download an attachment")
def download(request: Request[Any, Any, Any], ticket_id: str, attachment_id: str) -> Response[bytes]:
    return attachment_response(request, ticket_id, attachment_id)


def attachment_response(request: Request[Any, Any, Any], ticket_id: str, attachment_id: str) -> Response[bytes]:
    """The file, only for callers who may see the comment it belongs to (else 404)."""
    p = require_principal(request)
    actor = actor_of(p)
    ticket = _load(request, ticket_id)
    found = ticket.find_attachment(attachment_id)
    if found is None or (found[0]["visibility"] != "public" and not actor.staff):
        raise NotFoundError("Attachment", attachment_id)
    _, attachment = found
    data = container_of(request).support_attachments.read(attachment["sha256"])
    safe = attachment["filename"].replace('"', "")
    return Response(data, media_type=attachment["content_type"], headers={
        "Content-Disposition": f'attachment; filename="{safe}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


@post("/support/tickets/{ticket_id:str}/status", opt=WRITE_ANY, sync_to_thread=True, status_code=200,
      summary="Change a ticket's status")
def change_status(request: Request[Any, Any, Any], ticket_id: str, data: StatusIn) -> dict[str, Any]:
    p = require_principal(request)
    saved = container_of(request).support.change_status(meta_of(request), actor_of(p), ticket_id,
                                                        data.status, data.reason)
    return _view(request, saved.aggregate)


# Settings ------------------------------------------------------------------------------

def _policies(request: Request[Any, Any, Any]) -> dict[str, Any]:
    s = container_of(request).support.get_settings(require_principal(request).tenant_id)
    # `policies` is the canonical shape; the priorities are repeated at the top level for convenience.
    return {"policies": s.policies, **s.policies}


@get("/support/sla-policies", opt=SETTINGS_READ, sync_to_thread=True, summary="SLA policies")
def get_policies(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _policies(request)


@put("/support/sla-policies", opt=ADMIN, sync_to_thread=True, summary="Replace the SLA policies")
def put_policies(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    policies = data.get("policies", data) if isinstance(data, dict) else data
    container_of(request).support.set_policies(meta_of(request), policies)
    return _policies(request)


def _calendar(request: Request[Any, Any, Any]) -> dict[str, Any]:
    s = container_of(request).support.get_settings(require_principal(request).tenant_id)
    return {"timezone": "America/Sao_Paulo", "hours": s.hours, "holidays": s.extra_holidays,
            "national_holidays": "BR", "reopen_window_days": s.reopen_window_days}


@get("/support/calendar", opt=SETTINGS_READ, sync_to_thread=True, summary="Business calendar")
def get_calendar(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _calendar(request)


@put("/support/calendar", opt=ADMIN, sync_to_thread=True, summary="Change the business calendar")
def put_calendar(request: Request[Any, Any, Any], data: CalendarIn) -> dict[str, Any]:
    import msgspec

    if data.timezone is not msgspec.UNSET and data.timezone != "America/Sao_Paulo":
        raise ValidationError("timezone", "the business calendar runs in America/Sao_Paulo")
    service = container_of(request).support
    current = service.get_settings(require_principal(request).tenant_id)
    service.set_calendar(
        meta_of(request),
        hours=current.hours if data.hours is msgspec.UNSET else data.hours,
        extra_holidays=current.extra_holidays if data.holidays is msgspec.UNSET else data.holidays,
        reopen_window_days=current.reopen_window_days if data.reopen_window_days is msgspec.UNSET
        else data.reopen_window_days)
    return _calendar(request)


@get("/support/categories", opt=SETTINGS_READ, sync_to_thread=True, summary="Ticket categories")
def get_categories(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"categories": container_of(request).support.get_settings(
        require_principal(request).tenant_id).categories}


@put("/support/categories", opt=ADMIN, sync_to_thread=True, summary="Replace the ticket categories")
def put_categories(request: Request[Any, Any, Any], data: CategoriesIn) -> dict[str, Any]:
    saved = container_of(request).support.set_categories(meta_of(request), data.categories)
    return {"categories": list(saved.aggregate.categories)}


routes = [open_ticket, list_, read, update, assign, comment, attach, download, change_status,
          get_policies, put_policies, get_calendar, put_calendar, get_categories, put_categories]
