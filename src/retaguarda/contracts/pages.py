"""HTML pages of the contracts context: list with filters, contract page (terms, actions, versions with
a side-by-side diff, signature evidence, History link), template editor with preview, and the
public signing page reached by the e-mailed link (no login; the link's token is the credential)."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.contracts.contract_list import list_contracts, list_templates
from retaguarda.contracts.application import contract_view
from retaguarda.contracts.domain import STATUSES
from retaguarda.i18n import _
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from retaguarda.web.context import container_of, correlation_id_of, meta_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "customers:read"}
WRITE = {"permission": "customers:write"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
STATUS_LABELS = {
    "draft": "Draft",
    "awaiting_signature": "Awaiting signature",
    "active": "Active",
    "suspended": "Suspended",
    "expired": "Expired",
    "cancelled": "Cancelled",
}
ACTIONS = ("send", "activate", "suspend", "resume", "cancel", "renew", "amend")


def _service(request: Request[Any, Any, Any]) -> Any:
    return container_of(request).contracts


def _form_choices(request: Request[Any, Any, Any], tenant_id: str) -> dict[str, Any]:
    lookups = _service(request).lookups
    with tenant_reader(container_of(request).engine, tenant_id) as conn:
        templates = list_templates(conn, tenant_id)
    return {
        "customers": lookups.customer_options(tenant_id),
        "templates": templates,
        "plans": lookups.plans(tenant_id),
    }


def side_by_side(old: str, new: str) -> list[dict[str, str]]:
    """Rows (left, right, kind) of a line diff: same, changed, removed, added."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[dict[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [{"left": a[i], "right": b[j1 + k], "kind": "same"} for k, i in enumerate(range(i1, i2))]
        elif op == "replace":
            for k in range(max(i2 - i1, j2 - j1)):
                left = a[i1 + k] if i1 + k < i2 else ""
                right = b[j1 + k] if j1 + k < j2 else ""
                rows.append({"left": left, "right": right, "kind": "changed"})
        elif op == "delete":
            rows += [{"left": a[i], "right": "", "kind": "removed"} for i in range(i1, i2)]
        else:
            rows += [{"left": "", "right": b[j], "kind": "added"} for j in range(j1, j2)]
    return rows


@get("/contracts", opt=READ, sync_to_thread=True, include_in_schema=False)
def contract_list(
    request: Request[Any, Any, Any],
    status: str = "",
    ending_before: str = "",
    search: str = "",
    customer: str = "",
    page: int = 1,
) -> Template:
    p = require_principal(request)
    status = status if status in ("open", *STATUSES) else ""
    try:
        before = date.fromisoformat(ending_before) if ending_before else None
    except ValueError:
        before, ending_before = None, ""
    page = max(1, page)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_contracts(
            conn,
            p.tenant_id,
            status=status,
            customer=customer,
            ending_before=before,
            search=search,
            page=page,
            per_page=20,
        )
    query = {"status": status, "ending_before": ending_before, "search": search, "customer": customer}

    def page_url(n: int) -> str:
        return "/contracts?" + urlencode({**{k: v for k, v in query.items() if v}, "page": n})

    return Template(
        "contracts/list.html",
        context={
            "result": result,
            "status": status,
            "ending_before": ending_before,
            "search": search,
            "statuses": STATUSES,
            "labels": STATUS_LABELS,
            "page_url": page_url,
            "customer": customer,
        },
    )


@get("/contracts/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def new_contract(request: Request[Any, Any, Any], customer: str = "") -> Template:
    p = require_principal(request)
    ctx = _form_choices(request, p.tenant_id)
    return Template("contracts/new.html", context={**ctx, "customer": customer, "errors": {}, "form": {}})


@post("/contracts/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def create_contract(request: Request[Any, Any, Any], data: Annotated[dict[str, str], FORM]) -> Response[Any]:
    p = require_principal(request)
    from retaguarda.i18n import parse_date, parse_money

    try:
        errors: dict[str, str] = {}
        try:
            start = parse_date(data.get("start_date", ""))
        except (ValueError, TypeError):
            start = None
            errors["start_date"] = _("Enter the start date (dd/mm/aaaa)")
        price = None
        if data.get("price", "").strip():
            try:
                price = str(parse_money(data["price"]))
            except ValueError:
                errors["price"] = _("Enter an amount such as 99,90")
        if errors:
            raise ValidationError.many(errors)
        months = int(data.get("loyalty_months") or 0) if (data.get("loyalty_months") or "0").isdigit() else -1
        due = int(data.get("due_day") or 10) if (data.get("due_day") or "10").isdigit() else -1
        saved = _service(request).create_contract(
            meta_of(request),
            customer_id=data.get("customer_id"),
            plan_id=data.get("plan_id"),
            template_id=data.get("template_id"),
            start_date=start,
            loyalty_months=months,
            auto_renew=data.get("auto_renew") == "on",
            price=price,
            due_day=due,
        )
    except ValidationError as exc:
        ctx = _form_choices(request, p.tenant_id)
        return Template(
            "contracts/new.html",
            status_code=422,
            context={**ctx, "customer": data.get("customer_id", ""), "errors": exc.errors, "form": data},
        )
    return Redirect(f"/contracts/{saved.aggregate.id}")


@get("/contracts/{contract_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def contract_page(
    request: Request[Any, Any, Any], contract_id: str, a: int = 0, b: int = 0, signing_url: str = ""
) -> Template:
    p = require_principal(request)
    service = _service(request)
    c = service.get_contract(p.tenant_id, contract_id)
    view = contract_view(c, include_text=True)
    customer = service.lookups.customer(p.tenant_id, c.customer_id)
    n = c.version_number
    a = a if 1 <= a <= n else max(1, n - 1)
    b = b if 1 <= b <= n else n
    diff = side_by_side(c.versions[a - 1]["text"], c.versions[b - 1]["text"]) if n > 1 else []
    return Template(
        "contracts/detail.html",
        context={
            "c": view,
            "customer_name": getattr(customer, "name", ""),
            "labels": STATUS_LABELS,
            "a": a,
            "b": b,
            "diff": diff,
            "can_write": p.can("customers:write"),
            "is_manager": p.role in ("admin", "manager"),
            "can_audit": p.can("audit:read"),
            "signing_url": signing_url,
            "flash": request.query_params.get("flash", ""),
        },
    )


@post("/contracts/{contract_id:str}/actions", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def contract_action(
    request: Request[Any, Any, Any], contract_id: str, data: Annotated[dict[str, str], FORM]
) -> Response[Any]:
    p = require_principal(request)
    service = _service(request)
    action = data.get("action", "")
    reason = data.get("reason", "")
    meta = meta_of(request)
    extra = ""
    try:
        if action == "send":
            sent = service.send_for_signature(meta, contract_id)
            extra = "&" + urlencode({"signing_url": sent.signing_url or ""})
        elif action == "activate":
            if p.role not in ("admin", "manager"):
                raise PermissionDeniedError(_("Only a manager may activate a paper contract"))
            service.activate(meta, contract_id, reason).position
        elif action == "suspend":
            service.suspend(meta, contract_id, reason).position
        elif action == "resume":
            service.resume(meta, contract_id, reason).position
        elif action == "cancel":
            service.cancel(meta, contract_id, reason)[0].position
        elif action == "renew":
            service.renew(meta, contract_id).position
        elif action == "amend":
            from retaguarda.i18n import parse_money

            price = None
            if data.get("price", "").strip():
                try:
                    price = str(parse_money(data["price"]))
                except ValueError:
                    raise ValidationError("price", _("Enter an amount such as 99,90")) from None
            service.amend(
                meta, contract_id, price=price, plan_id=data.get("plan_id") or None, note=data.get("note", "")
            ).position
        else:
            raise ValidationError("action", _("Unknown action"))
    except (ValidationError, ConflictError) as exc:
        message = "; ".join(exc.errors.values()) if isinstance(exc, ValidationError) else exc.message
        return Redirect(f"/contracts/{contract_id}?" + urlencode({"flash": message}))
    return Redirect(f"/contracts/{contract_id}?flash={_('Saved')}{extra}")


# Templates -----------------------------------------------------------------------------------


@get("/contracts/templates", opt=READ, sync_to_thread=True, include_in_schema=False)
def template_list(request: Request[Any, Any, Any]) -> Template:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        items = list_templates(conn, p.tenant_id)
    return Template(
        "contracts/templates.html", context={"items": items, "can_write": p.can("customers:write")}
    )


def _editor(
    request: Request[Any, Any, Any],
    *,
    template_id: str,
    name: str,
    body: str,
    customer: str = "",
    preview: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    from retaguarda.contracts.templating import PLACEHOLDERS

    p = require_principal(request)
    customers = _service(request).lookups.customer_options(p.tenant_id)
    return Template(
        "contracts/template_edit.html",
        status_code=status,
        context={
            "template_id": template_id,
            "name": name,
            "body": body,
            "customer": customer,
            "customers": customers,
            "preview": preview,
            "errors": errors or {},
            "placeholders": PLACEHOLDERS,
        },
    )


@get("/contracts/templates/new", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def template_new(request: Request[Any, Any, Any]) -> Template:
    from retaguarda.contracts.defaults import DEFAULT_TEMPLATE

    return _editor(request, template_id="", name="", body=DEFAULT_TEMPLATE)


@get("/contracts/templates/{template_id:str}", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def template_edit(request: Request[Any, Any, Any], template_id: str) -> Template:
    t = _service(request).get_template(require_principal(request).tenant_id, template_id)
    return _editor(request, template_id=str(t.id), name=t.name, body=t.body)


@post("/contracts/templates/editor", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def template_save(request: Request[Any, Any, Any], data: Annotated[dict[str, str], FORM]) -> Response[Any]:
    p = require_principal(request)
    service = _service(request)
    template_id, name, body = data.get("template_id", ""), data.get("name", ""), data.get("body", "")
    customer = data.get("customer_id", "")
    try:
        if data.get("do") == "preview":
            text = service.preview(p.tenant_id, body, customer)
            return _editor(
                request, template_id=template_id, name=name, body=body, customer=customer, preview=text
            )
        if template_id:
            service.update_template(meta_of(request), template_id, name=name, body=body)
        else:
            service.create_template(meta_of(request), name=name, body=body)
    except ValidationError as exc:
        return _editor(
            request,
            template_id=template_id,
            name=name,
            body=body,
            customer=customer,
            errors=exc.errors,
            status=422,
        )
    return Redirect("/contracts/templates")


# Public signing page -------------------------------------------------------------------------


def _client_ip(request: Request[Any, Any, Any]) -> str:
    client = request.client
    return client.host if client else ""


@get("/contracts/sign/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def signing_page(request: Request[Any, Any, Any], token: str) -> Template:
    container = container_of(request)
    service = container.contracts
    c, state = service.link_state(token, container.clock.now())
    if c is None or state != "ok":
        return Template(
            "contracts/sign_refused.html", status_code=410 if c is not None else 404, context={"state": state}
        )
    version = c.signing["version"]
    customer = service.lookups.customer(c.tenant_id, c.customer_id)
    return Template(
        "contracts/sign.html",
        context={
            "c": c,
            "text": c.versions[version - 1]["text"],
            "version": version,
            "token": token,
            "customer_name": getattr(customer, "name", ""),
            "errors": {},
            "form": {},
        },
    )


@get("/contracts/sign/{token:str}/pdf", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def signing_pdf(request: Request[Any, Any, Any], token: str) -> Response[bytes]:
    container = container_of(request)
    service = container.contracts
    c, state = service.link_state(token, container.clock.now())
    if c is None or state != "ok":
        raise NotFoundError("Signing link", "")
    return Response(service.pdf_of(c, c.signing["version"]), media_type="application/pdf")


@post(
    "/contracts/sign/{token:str}",
    opt={"public": True, "exclude_from_csrf": True},
    sync_to_thread=True,
    include_in_schema=False,
)
def sign(request: Request[Any, Any, Any], token: str, data: Annotated[dict[str, str], FORM]) -> Response[Any]:
    """The token in the path is the credential (256 random bits, single use), so this one form is
    exempt from the cookie CSRF check: a cross-site page cannot know it."""
    container = container_of(request)
    service = container.contracts
    at = container.clock.now()
    c, state = service.link_state(token, at)
    if c is None or state != "ok":
        return Template(
            "contracts/sign_refused.html", status_code=410 if c is not None else 404, context={"state": state}
        )
    try:
        service.sign_with_link(
            token,
            at,
            correlation_id_of(request),
            name=data.get("name", ""),
            document=data.get("document", ""),
            accept=data.get("accept") == "on",
            ip=_client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except ValidationError as exc:
        version = c.signing["version"]
        return Template(
            "contracts/sign.html",
            status_code=422,
            context={
                "c": c,
                "text": c.versions[version - 1]["text"],
                "version": version,
                "token": token,
                "customer_name": "",
                "errors": exc.errors,
                "form": data,
            },
        )
    except ConflictError:
        return Template("contracts/sign_refused.html", status_code=409, context={"state": "used"})
    return Template("contracts/signed.html", context={"number": c.number})


pages = [
    contract_list,
    new_contract,
    create_contract,
    template_list,
    template_new,
    template_save,
    template_edit,
    signing_page,
    signing_pdf,
    sign,
    contract_page,
    contract_action,
]
