"""JSON API of the customer portal (`/api/v1/portal/...`) and the RADIUS accounting push
(`/api/v1/network/accounting`).

Customer routes need `portal:self` and are scoped to the customer linked to the calling user:
another customer's invoice, ticket or request id is 404. Staff decide plan-change requests
(`customers:write`); machine clients push accounting with an API key scoped `network:write`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, put
from litestar.params import Parameter

from retaguarda.billing import Invoice, invoice_pdf
from retaguarda.portal import views
from retaguarda.portal.application import Intake
from retaguarda.portal.schemas import AccountingIn, PlanChangeIn, RadiusSourceIn, RejectIn, TicketIn
from retaguarda.shared.errors import NotFoundError
from retaguarda.shared.jsonable import jsonable
from retaguarda.support import Actor
from retaguarda.web.context import container_of, meta_of, require_principal

SELF = {"permission": "portal:self"}
DECIDE = {"permission": "customers:write"}
REQUESTS = {"permission": ("portal:self", "customers:read")}
NETWORK = {"permission": "network:write"}
RADIUS_ADMIN = {"permission": "ops:admin"}


def _ctx(request: Request[Any, Any, Any]) -> tuple[Any, Any]:
    return container_of(request), require_principal(request)


@get("/portal/me", opt=SELF, sync_to_thread=True, summary="The customer, plan, next invoice, open tickets")
def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    c, p = _ctx(request)
    invoices = views.invoices(c, p, per_page=50)["items"]
    open_ = sorted((i for i in invoices if i["pay_url"]), key=lambda i: i["due_date"])
    return jsonable(
        {
            "customer": views.customer_view(c, p),
            "plan": views.plan_of(c, p),
            "next_invoice": open_[0] if open_ else None,
            "open_tickets": views.tickets(c, p, per_page=5, active=True)["total"],
            "usage_this_month_octets": views.month_usage(c, p),
        }
    )


@get("/portal/invoices", opt=SELF, sync_to_thread=True, summary="The customer's invoices")
def invoices(
    request: Request[Any, Any, Any],
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    c, p = _ctx(request)
    return jsonable(views.invoices(c, p, page, per_page))


@get(
    "/portal/invoices/{invoice_id:str}",
    opt=SELF,
    sync_to_thread=True,
    summary="One of the customer's invoices",
)
def invoice(request: Request[Any, Any, Any], invoice_id: str) -> dict[str, Any]:
    c, p = _ctx(request)
    return jsonable(views.invoice_item(c, views.own_invoice(c, p, invoice_id)))


@get("/portal/invoices/{invoice_id:str}/pdf", opt=SELF, sync_to_thread=True, summary="Invoice PDF")
def pdf(request: Request[Any, Any, Any], invoice_id: str) -> Response[bytes]:
    c, p = _ctx(request)
    row = views.own_invoice(c, p, invoice_id)
    inv = c.billing.load(Invoice, row["id"], p.tenant_id)
    return Response(
        invoice_pdf(c, inv),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="fatura-{inv.number}.pdf"'},
    )


@post("/portal/tickets", opt=SELF, sync_to_thread=True, summary="Open a ticket")
def open_ticket(request: Request[Any, Any, Any], data: TicketIn) -> Response[dict[str, Any]]:
    c, p = _ctx(request)
    customer_id = views.own_customer(p)
    saved = c.support.open_ticket(
        meta_of(request),
        Actor.customer(p.actor, customer_id),
        customer_id=customer_id,
        title=data.title,
        description=data.description,
        priority="medium",
        channel="portal",
    )
    t = saved.aggregate
    return Response(
        jsonable({"id": str(t.id), "number": t.number, "title": t.title, "status": t.status}),
        status_code=201,
        headers={"Location": f"/api/v1/portal/tickets/{t.id}"},
    )


@get("/portal/tickets", opt=SELF, sync_to_thread=True, summary="The customer's tickets")
def tickets(
    request: Request[Any, Any, Any],
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    c, p = _ctx(request)
    return jsonable(views.tickets(c, p, page, per_page))


@get(
    "/portal/tickets/{ticket_id:str}", opt=SELF, sync_to_thread=True, summary="One of the customer's tickets"
)
def ticket(request: Request[Any, Any, Any], ticket_id: str) -> dict[str, Any]:
    c, p = _ctx(request)
    customer_id = views.own_customer(p)
    t = c.support.get_ticket(p.tenant_id, Actor.customer(p.actor, customer_id), ticket_id)
    # Public comments only, attachments linked through support's own (customer-scoped) route.
    comments = [
        {
            **cm,
            "attachments": [
                {**a, "url": f"/api/v1/support/tickets/{t.id}/attachments/{a['id']}"}
                for a in cm.get("attachments", [])
            ],
        }
        for cm in t.visible_comments(include_internal=False)
    ]
    return jsonable(
        {
            "id": str(t.id),
            "number": t.number,
            "title": t.title,
            "description": t.description,
            "status": t.status,
            "comments": comments,
        }
    )


@get("/portal/plans", opt=SELF, sync_to_thread=True, summary="Plans offered in the portal")
def plans(request: Request[Any, Any, Any]) -> dict[str, Any]:
    c, p = _ctx(request)
    items = views.plans(c, p)
    return jsonable({"items": items, "total": len(items), "page": 1})


def _request_view(req: Any) -> dict[str, Any]:
    return {
        "id": str(req.id),
        "status": req.status,
        "customer_id": req.customer_id,
        "plan_id": req.plan_id,
        "from_plan_id": req.from_plan_id,
        "subscription_id": req.subscription_id,
        "effective_from": req.effective_from,
        "reason": req.reason,
    }


@post("/portal/plan-change", opt=SELF, sync_to_thread=True, status_code=202, summary="Ask for another plan")
def request_plan_change(request: Request[Any, Any, Any], data: PlanChangeIn) -> dict[str, Any]:
    c, p = _ctx(request)
    saved = c.portal.request_plan_change(meta_of(request), views.own_customer(p), data.plan_id)
    return jsonable(_request_view(saved.aggregate))


@get("/portal/plan-change", opt=REQUESTS, sync_to_thread=True, summary="Plan-change requests")
def plan_change_requests(
    request: Request[Any, Any, Any],
    status: str = Parameter(default="", pattern="^(|requested|approved|rejected)$"),
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    c, p = _ctx(request)
    customer = "" if p.can("customers:read") else views.own_customer(p)
    return jsonable(views.plan_requests(c, p, customer=customer, status=status, page=page, per_page=per_page))


@get(
    "/portal/plan-change/{request_id:str}",
    opt=REQUESTS,
    sync_to_thread=True,
    summary="One plan-change request",
)
def plan_change_request(request: Request[Any, Any, Any], request_id: str) -> dict[str, Any]:
    c, p = _ctx(request)
    req = c.portal.get_request(p.tenant_id, request_id)
    if not p.can("customers:read") and req.customer_id != views.own_customer(p):
        raise NotFoundError("PlanChangeRequest", request_id)
    return jsonable(_request_view(req))


@post(
    "/portal/plan-change/{request_id:str}/approve",
    opt=DECIDE,
    sync_to_thread=True,
    status_code=200,
    summary="Approve a plan change (from the subscription's next period)",
)
def approve(request: Request[Any, Any, Any], request_id: str) -> dict[str, Any]:
    saved = container_of(request).portal.approve_plan_change(meta_of(request), request_id)
    return jsonable(_request_view(saved.aggregate))


@post(
    "/portal/plan-change/{request_id:str}/reject",
    opt=DECIDE,
    sync_to_thread=True,
    status_code=200,
    summary="Reject a plan change with a reason",
)
def reject(request: Request[Any, Any, Any], request_id: str, data: RejectIn) -> dict[str, Any]:
    saved = container_of(request).portal.reject_plan_change(meta_of(request), request_id, data.reason)
    return jsonable(_request_view(saved.aggregate))


@get("/portal/data-export", opt=SELF, sync_to_thread=True, summary="All own data (LGPD), as JSON")
def data_export(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    c, p = _ctx(request)
    return Response(
        jsonable(views.export(c, p)),
        headers={"Content-Disposition": 'attachment; filename="meus-dados.json"'},
    )


@get("/portal/connections", opt=SELF, sync_to_thread=True, summary="Connection sessions and daily traffic")
def connections(
    request: Request[Any, Any, Any],
    from_: str = Parameter(query="from", default=""),
    to: str = Parameter(default=""),
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=500),
) -> dict[str, Any]:
    c, p = _ctx(request)
    first, last = views.parse_range(from_, to, c.clock.now().astimezone(views.ZONE).date())
    return jsonable(views.connections(c, p, first, last, page, per_page))


# Machine clients and the RADIUS source ---------------------------------------------------------------
def _intake(result: Intake) -> dict[str, Any]:
    return {"recorded": result.recorded, "unchanged": result.unchanged, "unmatched": result.unmatched}


@post(
    "/network/accounting",
    opt=NETWORK,
    sync_to_thread=True,
    status_code=202,
    summary="Push RADIUS accounting sessions (same fields as radacct)",
)
def push_accounting(request: Request[Any, Any, Any], data: AccountingIn) -> dict[str, Any]:
    return _intake(container_of(request).portal.push_sessions(meta_of(request), data.records))


@put(
    "/portal/radius-source", opt=RADIUS_ADMIN, sync_to_thread=True, summary="The FreeRADIUS radacct database"
)
def configure_radius(request: Request[Any, Any, Any], data: RadiusSourceIn) -> dict[str, Any]:
    saved = container_of(request).portal.configure_radius(
        meta_of(request), dsn=data.dsn, table=data.table, active=data.active
    )
    s = saved.aggregate
    return {"table": s.table, "active": s.active, "last_id": s.last_id}


@post(
    "/portal/radius-source/poll",
    opt=RADIUS_ADMIN,
    sync_to_thread=True,
    status_code=200,
    summary="Read new radacct rows now",
)
def poll_radius(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _intake(container_of(request).portal.poll_radius(meta_of(request)))


routes = [
    me,
    invoices,
    invoice,
    pdf,
    open_ticket,
    tickets,
    ticket,
    plans,
    request_plan_change,
    plan_change_requests,
    plan_change_request,
    approve,
    reject,
    data_export,
    connections,
    push_accounting,
    configure_radius,
    poll_radius,
]
