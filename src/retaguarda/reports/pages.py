"""HTML pages of the reports context: the reports index (with scheduled reports and their
history) and each report on screen (filters, sortable columns, pages, export links)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get

from projections.reports.schedules import list_schedules, sendings
from retaguarda.readdb import tenant_reader
from retaguarda.reports.documents import PERMISSIONS, TITLES, build
from retaguarda.reports.exports import shown
from retaguarda.reports.views import REPORT_FILTERS, STAFF, check_kind
from retaguarda.shared.errors import ValidationError
from retaguarda.web.context import container_of, require_principal
from retaguarda.web.html import Template

PER_PAGE = 25


@get("/reports", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def index(request: Request[Any, Any, Any]) -> Template:
    p = require_principal(request)
    kinds = [(k, TITLES[k]) for k in TITLES if p.can(PERMISSIONS[k])]
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        scheduled = list_schedules(conn, p.tenant_id, 1, 100)
        history = sendings(conn, p.tenant_id, None, 1, 20)
    return Template(
        "reports/index.html",
        context={"kinds": kinds, "schedules": scheduled["items"], "history": history["items"]},
    )


@get("/reports/view/{kind:str}", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def view(request: Request[Any, Any, Any], kind: str) -> Template:
    p = require_principal(request)
    check_kind(p, kind)
    filters = {k: request.query_params[k] for k in REPORT_FILTERS if request.query_params.get(k)}
    sort = request.query_params.get("sort", "")
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    container = container_of(request)
    errors: dict[str, str] = {}
    with tenant_reader(container.engine, p.tenant_id) as conn:
        try:
            doc = build(
                conn,
                p.tenant_id,
                kind,
                filters,
                container.clock.now(),
                sort=sort,
                page=page,
                per_page=PER_PAGE if kind in ("customers", "billing", "receivables") else None,
            )
        except ValidationError as exc:
            errors = dict(exc.errors)
            doc = build(
                conn,
                p.tenant_id,
                kind,
                {},
                container.clock.now(),
                page=1,
                per_page=PER_PAGE if kind in ("customers", "billing", "receivables") else None,
            )
    rows = [[shown(item.get(c.key), c) for c in doc.columns] for item in doc.items]
    query = urlencode(filters)

    def page_url(n: int) -> str:
        return f"/reports/view/{kind}?" + urlencode({**filters, "sort": sort, "page": n})

    def sort_url(key: str) -> str:
        return f"/reports/view/{kind}?" + urlencode({**filters, "sort": key if sort != key else f"-{key}"})

    return Template(
        "reports/report.html",
        context={
            "doc": doc,
            "rows": rows,
            "filters": filters,
            "errors": errors,
            "query": query,
            "kind": kind,
            "sort": sort,
            "page_url": page_url,
            "sort_url": sort_url,
            "result": {"page": doc.page, "pages": doc.pages},
            "totals": [
                shown(doc.totals.get(c.key), c) if c.type != "text" else doc.totals.get(c.key, "")
                for c in doc.columns
            ]
            if doc.totals
            else [],
        },
    )


pages = [index, view]
