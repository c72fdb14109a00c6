"""JSON API of the reports context: the dashboard (`/api/v1/dashboard/...`), the reports
(`/api/v1/reports/{kind}?format=json|csv|xlsx|pdf`) and scheduled reports
(`/api/v1/reports/schedules`)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post
from litestar.params import Parameter

from projections.reports import queries as q
from projections.reports.schedules import get_schedule, list_schedules, sendings
from retaguarda.readdb import tenant_reader
from retaguarda.reports.documents import PERMISSIONS, build
from retaguarda.reports.exports import CONTENT_TYPES, filename, render
from retaguarda.reports.schemas import ScheduleIn, SchedulePatch
from retaguarda.reports.views import REPORT_FILTERS, STAFF, check_kind, parse_month
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, read_one, require_principal


# Dashboard -------------------------------------------------------------------------------------
@get(
    "/dashboard/kpis",
    opt=STAFF,
    sync_to_thread=True,
    summary="KPIs of a month, the month before and the change in %",
)
def kpis(request: Request[Any, Any, Any], month: str = "") -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    wanted = parse_month(month, container.clock.now())
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable(q.month_kpis(conn, p.tenant_id, wanted))


@get(
    "/dashboard/growth",
    opt=STAFF,
    sync_to_thread=True,
    summary="Active customers, revenue, new and churned customers per month, oldest first",
)
def growth(
    request: Request[Any, Any, Any], months: int = Parameter(default=12, ge=1, le=36), month: str = ""
) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    last = parse_month(month, container.clock.now())
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable({"series": q.growth(conn, p.tenant_id, last, months)})


@get("/dashboard/alerts", opt=STAFF, sync_to_thread=True, summary="What needs attention today")
def alerts(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    container = container_of(request)
    with tenant_reader(container.engine, p.tenant_id) as conn:
        return jsonable({"items": q.alerts(conn, p.tenant_id, container.clock.now())})


# Scheduled reports ------------------------------------------------------------------------------
def _schedule(request: Request[Any, Any, Any], schedule_id: str) -> dict[str, Any]:
    return jsonable(read_one(request, get_schedule, "ScheduledReport", schedule_id))


@post("/reports/schedules", opt=STAFF, sync_to_thread=True, status_code=201, summary="Schedule a report")
def create_schedule(request: Request[Any, Any, Any], data: ScheduleIn) -> Response[dict[str, Any]]:
    p = require_principal(request)
    body = {f: getattr(data, f) for f in data.__struct_fields__}
    if isinstance(body.get("kind"), str) and body["kind"] in PERMISSIONS:
        check_kind(p, body["kind"])
    saved = container_of(request).reports.create_schedule(meta_of(request), body)
    schedule_id = str(saved.aggregate.id)
    return Response(
        {"id": schedule_id, **_schedule(request, schedule_id)},
        status_code=201,
        headers={"Location": f"/api/v1/reports/schedules/{schedule_id}"},
    )


@get("/reports/schedules", opt=STAFF, sync_to_thread=True, summary="Scheduled reports")
def schedules(
    request: Request[Any, Any, Any],
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_schedules(conn, p.tenant_id, page, per_page))


@get("/reports/schedules/{schedule_id:str}", opt=STAFF, sync_to_thread=True, summary="One scheduled report")
def schedule(request: Request[Any, Any, Any], schedule_id: str) -> dict[str, Any]:
    return _schedule(request, schedule_id)


@patch(
    "/reports/schedules/{schedule_id:str}",
    opt=STAFF,
    sync_to_thread=True,
    summary="Change, pause (paused: true) or resume a scheduled report",
)
def change_schedule(request: Request[Any, Any, Any], schedule_id: str, data: SchedulePatch) -> dict[str, Any]:
    p = require_principal(request)
    changes = data.given()
    current = container_of(request).reports.get_schedule(p.tenant_id, schedule_id)
    check_kind(p, current.kind)
    if isinstance(changes.get("kind"), str) and changes["kind"] in PERMISSIONS:
        check_kind(p, changes["kind"])
    container_of(request).reports.change_schedule(meta_of(request), schedule_id, changes)
    return _schedule(request, schedule_id)


@delete(
    "/reports/schedules/{schedule_id:str}",
    opt=STAFF,
    sync_to_thread=True,
    status_code=204,
    summary="Delete a scheduled report",
)
def delete_schedule(request: Request[Any, Any, Any], schedule_id: str) -> None:
    p = require_principal(request)
    check_kind(p, container_of(request).reports.get_schedule(p.tenant_id, schedule_id).kind)
    container_of(request).reports.delete_schedule(meta_of(request), schedule_id)


@post(
    "/reports/schedules/{schedule_id:str}/send-now",
    opt=STAFF,
    sync_to_thread=True,
    status_code=202,
    summary="Send the report now (outside its schedule)",
)
def send_now(request: Request[Any, Any, Any], schedule_id: str) -> dict[str, Any]:
    p = require_principal(request)
    check_kind(p, container_of(request).reports.get_schedule(p.tenant_id, schedule_id).kind)
    _saved, request_id = container_of(request).reports.send_now(meta_of(request), schedule_id)
    return {"id": schedule_id, "request_id": request_id, "status": "requested"}


@get(
    "/reports/schedules/{schedule_id:str}/history",
    opt=STAFF,
    sync_to_thread=True,
    summary="Every sending of a scheduled report",
)
def history(
    request: Request[Any, Any, Any],
    schedule_id: str,
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=200),
) -> dict[str, Any]:
    p = require_principal(request)
    _schedule(request, schedule_id)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(sendings(conn, p.tenant_id, schedule_id, page, per_page))


# Reports ------------------------------------------------------------------------------------------
@get(
    "/reports/{kind:str}",
    opt=STAFF,
    sync_to_thread=True,
    summary="A report: customers, billing, churn, technicians or receivables (json, csv, xlsx, pdf)",
)
def report(
    request: Request[Any, Any, Any],
    kind: str,
    format: str = Parameter(default="json", pattern="^(json|csv|xlsx|pdf)$"),
    sort: str = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int | None = Parameter(default=None, ge=1, le=5000),
) -> Response[Any]:
    p = require_principal(request)
    check_kind(p, kind)
    filters = {k: request.query_params[k] for k in REPORT_FILTERS if request.query_params.get(k)}
    container = container_of(request)
    now = container.clock.now()
    paged = per_page if format == "json" else None
    with tenant_reader(container.engine, p.tenant_id) as conn:
        doc = build(
            conn, p.tenant_id, kind, filters, now, sort=sort, page=page if paged else 1, per_page=paged
        )
    if format == "json":
        return Response(jsonable(doc.as_json()))
    name = filename(doc, format)
    return Response(
        render(doc, format),
        media_type=CONTENT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [
    kpis,
    growth,
    alerts,
    create_schedule,
    schedules,
    schedule,
    change_schedule,
    delete_schedule,
    send_now,
    history,
    report,
]
