"""HTML pages of the audit context: the trail, seal verification and the reusable History tab.

`/history/{id}` and `/history/{id}/state` are HTMX fragments any aggregate page can load:
they need a logged-in user of the aggregate's tenant with `audit:read` or the permission that
reads that aggregate type (see `HISTORY_PERMISSIONS`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post

from projections.audit.audit_trail import event_types, list_audit_events
from projections.identity.user_directory import actor_labels, list_users
from retaguarda.audit import application as audit
from retaguarda.i18n import N_, _
from retaguarda.readdb import tenant_reader
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import PermissionDeniedError, ValidationError
from retaguarda.web.context import container_of, require_principal
from retaguarda.web.html import Template

READ = {"permission": "audit:read"}
PER_PAGE = 50


def local_time(value: Any) -> str:
    """`23/11/2026 09:00:00` in America/Sao_Paulo, from a datetime or an ISO string."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M:%S")


def _plain(value: Any) -> str:
    """A readable rendering of event values: `street: Rua X, city: Y` rather than a Python repr."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _short(value: Any) -> str:
    text = "—" if value in (None, "", [], {}) else _plain(value)
    return text if len(text) <= 120 else text[:119] + "…"


# Field names that events commonly carry, as people call them; others are shown as their code.
FIELD_LABELS = {
    "name": N_("Name"), "email": N_("E-mail"), "role": N_("Role"), "previous_role": N_("Previous role"),
    "status": N_("Status"), "status_reason": N_("Status reason"), "reason": N_("Reason"),
    "amount": N_("Amount"), "total": N_("Total"), "due_date": N_("Due date"), "number": N_("Number"),
    "document": N_("Document"), "phones": N_("Phones"), "address": N_("Address"), "plan": N_("Plan"),
    "price": N_("Price"), "title": N_("Title"), "priority": N_("Priority"), "channel": N_("Channel"),
    "description": N_("Description"), "method": N_("Method"), "paid_at": N_("Paid at"),
    "reference": N_("Reference"), "locale": N_("Language"), "kind": N_("Kind"), "cycle": N_("Cycle"),
    "customer_id": N_("Customer"), "plan_id": N_("Plan"), "technician_id": N_("Technician"),
    "start": N_("Start"), "end": N_("End"), "competence": N_("Competence"), "version": N_("Version"),
    # claims, sessions, users, keys
    "key": N_("Key"), "scope": N_("Scope"), "owner_id": N_("Owner"), "user_id": N_("User"),
    "token_hash": N_("Token"), "expires_at": N_("Expires at"), "ip": N_("IP address"), "via": N_("Via"),
    "password_hash": N_("Password"), "credentials": N_("Credentials"), "secret": N_("Secret"),
    "value": N_("Value"), "previous": N_("Previous value"), "previous_id": N_("Previous record"),
    "notes": N_("Notes"), "label": N_("Label"), "tags": N_("Tags"), "active": N_("Active"),
    # e-mails and notices
    "to": N_("To"), "template": N_("Template"), "subject": N_("Subject"), "attempt": N_("Attempt"),
    "attempts": N_("Attempts"), "provider_message_id": N_("Provider message id"), "params": N_("Details"),
    "recipient_id": N_("Recipient"), "link": N_("Link"), "source_id": N_("Source record"),
    "source_version": N_("Source version"), "body": N_("Text"), "text": N_("Text"), "email_id": N_("E-mail"),
    # billing
    "subscription_id": N_("Subscription"), "invoice_id": N_("Invoice"), "payment_id": N_("Payment"),
    "contract_id": N_("Contract"), "items": N_("Items"), "issue_date": N_("Issue date"),
    "period_start": N_("Period start"), "period_end": N_("Period end"), "discount": N_("Discount"),
    "pix": N_("PIX"), "boleto": N_("Boleto"), "due": N_("Due"), "paid_on": N_("Paid on"),
    "principal": N_("Principal"), "fine": N_("Fine"), "interest": N_("Interest"), "excess": N_("Excess"),
    "due_day": N_("Due day"), "start_date": N_("Start date"), "credit_applied": N_("Credit applied"),
    # support and field
    "ticket_id": N_("Ticket"), "order_id": N_("Service order"), "category": N_("Category"),
    "opened_by": N_("Opened by"), "origin": N_("Origin"), "clocks": N_("SLA clocks"),
    "resolution_minutes": N_("Resolution (min)"),
    "business_resolution_minutes": N_("Resolution (business min)"),
    "comment_id": N_("Comment"), "author": N_("Author"), "author_kind": N_("Author kind"),
    "visibility": N_("Visibility"), "attachments": N_("Attachments"), "first_response": N_("First response"),
    "assignee_id": N_("Assignee"), "target": N_("Target"), "checklist": N_("Checklist"),
    "materials": N_("Materials"),
    # CNPJ and fiscal
    "cnpj": N_("CNPJ"), "check_id": N_("Check"), "target_id": N_("Target"), "situation": N_("Situation"),
    "razao_social": N_("Legal name"), "found": N_("Found"), "snapshot": N_("Data"),
    "provider": N_("Provider"),
    "schedule": N_("Schedule"), "alerts": N_("Alerts"), "refresh": N_("Refresh"), "mode": N_("Mode"),
    "access_key": N_("Access key"), "authorized_at": N_("Authorized at"), "issued_at": N_("Issued at"),
    "series": N_("Series"), "dps_number": N_("DPS number"), "backend": N_("Backend"),
    "environment": N_("Environment"), "issuer": N_("Issuer"), "tomador": N_("Service taker"),
    "service": N_("Service"), "deductions": N_("Deductions"), "protocol": N_("Protocol"),
    "iss_rate": N_("ISS rate"),
}


def field_label(key: Any) -> str:
    """`status_reason` → `Motivo da situação`: field names for people (unknown ones as their code)."""
    code = str(key).strip()
    return _(FIELD_LABELS[code]) if code in FIELD_LABELS else code


_PAIR = re.compile(r"(?:^|, )([A-Za-z_][A-Za-z0-9_]*)=")


def summary_fields(summary: str, limit: int = 240) -> list[tuple[str, str]]:
    """The trail's one-line summary (`k=v, k=v`) as (field label, value) pairs, long values cut."""
    text = str(summary or "")
    marks = list(_PAIR.finditer(text))
    if not marks:
        return [("", text[:limit] + ("…" if len(text) > limit else ""))] if text else []
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = text[m.end():end]
        out.append((field_label(m.group(1)), value if len(value) <= limit else value[:limit - 1] + "…"))
    return out


def _resolve_customer(conn: Any, tenant_id: str, name: str) -> tuple[str, list[dict[str, Any]]]:
    """A customer typed by name or document: the id when exactly one matches, and the matches."""
    from projections.customers.customer_list import list_customers

    found = list_customers(conn, tenant_id, search=name, page=1)["items"][:10]
    exact = [c for c in found if c["name"].casefold() == name.casefold()]
    chosen = exact[0] if exact else (found[0] if len(found) == 1 else None)
    return (chosen["id"] if chosen else ""), found


@get("/audit", opt=READ, sync_to_thread=True, include_in_schema=False)
def trail(request: Request[Any, Any, Any], aggregate_id: str = "", actor: str = "", type: str = "",
          since: str = "", until: str = "", customer: str = "", page: int = 1) -> Template:
    p = require_principal(request)
    filters = {"aggregate_id": aggregate_id.strip(), "actor": actor.strip(), "type": type.strip(),
               "since": since.strip(), "until": until.strip(), "customer": customer.strip()}
    errors: dict[str, str] = {}
    bounds: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        try:
            bounds[name] = audit.parse_instant(filters[name], name, end_of_day=name == "until")
        except ValidationError as exc:
            errors.update(exc.errors)
            bounds[name] = None
    page = max(1, page)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        matches: list[dict[str, Any]] = []
        record = filters["aggregate_id"]
        if filters["customer"] and not record:
            record, matches = _resolve_customer(conn, p.tenant_id, filters["customer"])
            if not record:
                errors["customer"] = (_("no customer with that name") if not matches
                                      else _("several customers match: pick one"))
                record = "\x00none"
        users = list_users(conn, p.tenant_id, page=1, per_page=200)["items"]
        result = list_audit_events(conn, p.tenant_id, aggregate_id=record,
                                   actor=filters["actor"], type=filters["type"],
                                   since=bounds["since"], until=bounds["until"],
                                   page=page, per_page=PER_PAGE)
        types = event_types(conn, p.tenant_id)
        names = actor_labels(conn, p.tenant_id, {e["actor"] for e in result["items"]})

    def page_url(n: int) -> str:
        return "/audit?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": n})

    return Template("audit/trail.html", status_code=422 if errors else 200, context={
        "result": result, "filters": filters, "filtered": any(filters.values()), "types": types,
        "errors": errors, "page_url": page_url, "local_time": local_time, "names": names,
        "users": users, "matches": matches, "fields": summary_fields,
    })


@get("/audit/aggregates/{aggregate_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def aggregate_page(request: Request[Any, Any, Any], aggregate_id: str) -> Template:
    p = require_principal(request)
    kind = audit.aggregate_type(container_of(request).store, aggregate_id, p.tenant_id)
    return Template("audit/aggregate.html", context={"aggregate_id": aggregate_id, "kind": kind})


@get("/audit/verify", opt=READ, sync_to_thread=False, include_in_schema=False)
def verify_form() -> Template:
    return Template("audit/verify.html", context={"result": None})


@post("/audit/verify", opt=READ, sync_to_thread=True, include_in_schema=False, status_code=200)
def verify_run(request: Request[Any, Any, Any]) -> Template:
    container = container_of(request)
    result = audit.verify(container.store, container.engine, audit.seal_key_of(container.settings))
    return Template("audit/verify.html", context={"result": result})


def _readable_history(request: Request[Any, Any, Any], aggregate_id: str) -> dict[str, Any]:
    p = require_principal(request)
    found = audit.history(container_of(request).store, aggregate_id, p.tenant_id)
    if not audit.can_read_history(p, found["aggregate_type"]):
        raise PermissionDeniedError(
            f"permission {audit.history_permission(found['aggregate_type'])} or audit:read required")
    return found


@get("/history/{aggregate_id:str}", sync_to_thread=True, include_in_schema=False)
def history_fragment(request: Request[Any, Any, Any], aggregate_id: str) -> Template:
    found = _readable_history(request, aggregate_id)
    events = list(reversed(found["events"]))  # newest first on the timeline
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        names = actor_labels(conn, p.tenant_id, {e["actor"] for e in events})
    return Template("audit/_history.html", context={
        "names": names,
        "h": found, "events": events, "local_time": local_time, "short": _short, "label": field_label,
    })


@get("/history/{aggregate_id:str}/state", sync_to_thread=True, include_in_schema=False)
def state_fragment(request: Request[Any, Any, Any], aggregate_id: str, version: str = "",
                   at: str = "") -> Template:
    p = require_principal(request)
    _readable_history(request, aggregate_id)
    try:
        snapshot = audit.state(container_of(request).store, aggregate_id, p.tenant_id,
                               version=audit.parse_version(version), at=audit.parse_instant(at, "at"))
    except ValidationError as exc:
        return Template("audit/_state.html", status_code=422,
                        context={"snapshot": None, "error": exc.message, "field": exc.field,
                                 "local_time": local_time})
    return Template("audit/_state.html", context={"snapshot": snapshot, "error": None,
                                                  "local_time": local_time, "label": field_label})


pages = [trail, aggregate_page, verify_form, verify_run, history_fragment, state_fragment]
