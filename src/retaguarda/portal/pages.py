"""HTML pages of the customer portal (phone first, bottom navigation): home, invoices (PDF, pay,
PIX copy), tickets (support's pages follow them), plan change, own data with the LGPD export,
connections with a daily traffic chart (server-rendered SVG); and the staff page that decides
plan-change requests."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect
from markupsafe import Markup, escape

from retaguarda.billing import Invoice, invoice_pdf
from retaguarda.i18n import gettext as _
from retaguarda.i18n import lazy_gettext as N_
from retaguarda.portal import views
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.support import Actor
from retaguarda.web.context import container_of, meta_of, require_principal
from retaguarda.web.html import Template

SELF = {"permission": "portal:self"}
DECIDE = {"permission": "customers:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)

INVOICE_STATUS = {
    "issued": N_("Open"),
    "partially_paid": N_("Partially paid"),
    "overdue": N_("Overdue"),
    "paid": N_("Paid"),
    "cancelled": N_("Cancelled"),
}
REQUEST_STATUS = {
    "requested": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
TICKET_STATUS = {
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "waiting_customer": N_("Waiting for you"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
FLASHES = {
    "ticket": N_("Ticket opened. We will answer here and by e-mail."),
    "requested": N_("Plan change requested. We will let you know when it is approved."),
    "approved": N_("Plan change approved."),
    "rejected": N_("Plan change rejected."),
}


def _ctx(request: Request[Any, Any, Any]) -> tuple[Any, Any]:
    return container_of(request), require_principal(request)


def _page(name: str, request: Request[Any, Any, Any], done: str = "", **context: Any) -> Template:
    flash = FLASHES.get(done)
    return Template(
        f"portal/{name}.html",
        context={
            "section": name,
            "flash": flash,
            "invoice_status": INVOICE_STATUS,
            "request_status": REQUEST_STATUS,
            "ticket_status": TICKET_STATUS,
            **context,
        },
    )


def human_bytes(n: int) -> str:
    """Octets as a person reads them (decimal units, Brazilian comma)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            text = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        value /= 1000
    return f"{n} B"


def traffic_svg(daily: list[dict[str, Any]]) -> Markup:
    """A bar chart of daily traffic (download + upload), drawn on the server: no script needed."""
    width, height, pad = 360, 160, 22
    totals = [d["input_octets"] + d["output_octets"] for d in daily]
    top = max(totals) if totals and max(totals) > 0 else 1
    n = max(len(daily), 1)
    slot = (width - 2 * pad) / n
    bar = max(slot * 0.7, 1)
    parts = [
        f'<svg class="traffic" viewBox="0 0 {width} {height}" role="img" data-testid="traffic-chart" '
        f'aria-label="{escape(_("Daily traffic"))}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>',
    ]
    for i, (d, total) in enumerate(zip(daily, totals, strict=True)):
        h = (height - 2 * pad) * total / top
        x = pad + i * slot + (slot - bar) / 2
        y = height - pad - h
        label = f"{d['day'].strftime('%d/%m')}: {human_bytes(total)}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)}</title></rect>"
        )
    if daily:
        parts.append(
            f'<text x="{pad}" y="{height - 6}" class="tick">{daily[0]["day"].strftime("%d/%m")}</text>'
        )
        parts.append(
            f'<text x="{width - pad}" y="{height - 6}" text-anchor="end" class="tick">'
            f"{daily[-1]['day'].strftime('%d/%m')}</text>"
        )
        parts.append(f'<text x="{pad}" y="14" class="tick">{escape(human_bytes(top))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _brcodes(c: Any, tenant_id: str, items: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for item in items:
        if item["pay_url"]:
            inv = c.billing.load(Invoice, item["id"], tenant_id)
            pix = getattr(inv, "pix", None) or {}
            if pix.get("brcode"):
                out[item["id"]] = pix["brcode"]
    return out


@get("/portal", opt=SELF, sync_to_thread=True, include_in_schema=False)
def home(request: Request[Any, Any, Any], done: str = "") -> Template:
    c, p = _ctx(request)
    invoices = views.invoices(c, p, per_page=50)["items"]
    open_ = sorted((i for i in invoices if i["pay_url"]), key=lambda i: i["due_date"])
    nxt = open_[0] if open_ else None
    return _page(
        "home",
        request,
        done,
        customer=views.customer_view(c, p),
        plan=views.plan_of(c, p),
        next_invoice=nxt,
        brcodes=_brcodes(c, p.tenant_id, [nxt] if nxt else []),
        tickets=views.tickets(c, p, per_page=5, active=True),
        usage=human_bytes(views.month_usage(c, p)),
    )


@get("/portal/invoices", opt=SELF, sync_to_thread=True, include_in_schema=False)
def invoices_page(request: Request[Any, Any, Any], page: int = Parameter(default=1, ge=1)) -> Template:
    c, p = _ctx(request)
    result = views.invoices(c, p, page, 20)
    return _page("invoices", request, result=result, brcodes=_brcodes(c, p.tenant_id, result["items"]))


@get("/portal/invoices/{invoice_id:str}/pdf", opt=SELF, sync_to_thread=True, include_in_schema=False)
def invoice_pdf_page(request: Request[Any, Any, Any], invoice_id: str) -> Response[bytes]:
    c, p = _ctx(request)
    row = views.own_invoice(c, p, invoice_id)
    inv = c.billing.load(Invoice, row["id"], p.tenant_id)
    return Response(
        invoice_pdf(c, inv),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="fatura-{inv.number}.pdf"'},
    )


@get("/portal/tickets", opt=SELF, sync_to_thread=True, include_in_schema=False)
def tickets_page(request: Request[Any, Any, Any], done: str = "") -> Template:
    c, p = _ctx(request)
    return _page("tickets", request, done, result=views.tickets(c, p, per_page=50), errors={}, form={})


@post("/portal/tickets", opt=SELF, sync_to_thread=True, include_in_schema=False, status_code=303)
def open_ticket(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    c, p = _ctx(request)
    customer_id = views.own_customer(p)
    try:
        c.support.open_ticket(
            meta_of(request),
            Actor.customer(p.actor, customer_id),
            customer_id=customer_id,
            title=data.get("title", ""),
            description=data.get("description", ""),
            priority="medium",
            channel="portal",
        )
    except ValidationError as exc:
        return _page(
            "tickets", request, result=views.tickets(c, p, per_page=50), errors=exc.errors, form=data
        )
    return Redirect("/portal/tickets?done=ticket", status_code=303)


@get("/portal/plan", opt=SELF, sync_to_thread=True, include_in_schema=False)
def plan_page(request: Request[Any, Any, Any], done: str = "") -> Template:
    c, p = _ctx(request)
    return _page(
        "plan",
        request,
        done,
        plan=views.plan_of(c, p),
        plans=views.plans(c, p),
        requests=views.plan_requests(c, p, customer=views.own_customer(p), per_page=10)["items"],
        error="",
    )


@post("/portal/plan", opt=SELF, sync_to_thread=True, include_in_schema=False, status_code=303)
def request_plan(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    c, p = _ctx(request)
    try:
        c.portal.request_plan_change(meta_of(request), views.own_customer(p), data.get("plan_id", ""))
    except (ValidationError, ConflictError) as exc:
        return _page(
            "plan",
            request,
            plan=views.plan_of(c, p),
            plans=views.plans(c, p),
            requests=views.plan_requests(c, p, customer=views.own_customer(p), per_page=10)["items"],
            error=str(exc),
        )
    return Redirect("/portal/plan?done=requested", status_code=303)


@get("/portal/data", opt=SELF, sync_to_thread=True, include_in_schema=False)
def data_page(request: Request[Any, Any, Any]) -> Template:
    c, p = _ctx(request)
    return _page("data", request, customer=views.customer_view(c, p))


@get("/portal/data/export.json", opt=SELF, sync_to_thread=True, include_in_schema=False)
def data_export(request: Request[Any, Any, Any]) -> Response[bytes]:
    c, p = _ctx(request)
    body = json.dumps(jsonable(views.export(c, p)), ensure_ascii=False, indent=2).encode()
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="meus-dados.json"'},
    )


@get("/portal/connections", opt=SELF, sync_to_thread=True, include_in_schema=False)
def connections_page(
    request: Request[Any, Any, Any],
    from_: str = Parameter(query="from", default=""),
    to: str = Parameter(default=""),
    page: int = Parameter(default=1, ge=1),
) -> Template:
    c, p = _ctx(request)
    today: date = c.clock.now().astimezone(views.ZONE).date()
    try:
        first, last = views.parse_range(from_, to, today)
    except ValidationError:
        first, last = views.parse_range("", "", today)
    result = views.connections(c, p, first, last, page, 50)
    for s in result["items"]:
        s["traffic"] = human_bytes(s["input_octets"] + s["output_octets"])
        s["down"], s["up"] = human_bytes(s["output_octets"]), human_bytes(s["input_octets"])
    total = sum(d["input_octets"] + d["output_octets"] for d in result["daily"])
    return _page(
        "connections",
        request,
        result=result,
        chart=traffic_svg(result["daily"]),
        total=human_bytes(total),
        first=first,
        last=last,
    )


# Staff: decide plan-change requests ----------------------------------------------------------------
@get("/portal/requests", opt=DECIDE, sync_to_thread=True, include_in_schema=False)
def requests_page(
    request: Request[Any, Any, Any],
    done: str = "",
    status: str = Parameter(default="requested", pattern="^(|requested|approved|rejected)$"),
) -> Template:
    c, p = _ctx(request)
    result = views.plan_requests(c, p, status=status, per_page=100)
    names = {}
    for item in result["items"]:
        try:
            names[item["customer_id"]] = c.customers.get_customer(p.tenant_id, item["customer_id"]).name
        except Exception:  # a customer removed since: show the id
            names[item["customer_id"]] = item["customer_id"]
    return Template(
        "portal/requests.html",
        context={
            "result": result,
            "names": names,
            "status": status,
            "request_status": REQUEST_STATUS,
            "flash": FLASHES.get(done),
            "error": "",
        },
    )


@post(
    "/portal/requests/{request_id:str}/{action:str}",
    opt=DECIDE,
    sync_to_thread=True,
    include_in_schema=False,
    status_code=303,
)
def decide(
    request: Request[Any, Any, Any], request_id: str, action: str, data: dict[str, Any] = FORM
) -> Redirect:
    c = container_of(request)
    if action == "approve":
        c.portal.approve_plan_change(meta_of(request), request_id)
        return Redirect("/portal/requests?done=approved", status_code=303)
    if action == "reject":
        c.portal.reject_plan_change(meta_of(request), request_id, data.get("reason", ""))
        return Redirect("/portal/requests?done=rejected", status_code=303)
    raise ValidationError("action", "action must be approve or reject")


pages = [
    home,
    invoices_page,
    invoice_pdf_page,
    tickets_page,
    open_ticket,
    plan_page,
    request_plan,
    data_page,
    data_export,
    connections_page,
    requests_page,
    decide,
]
