"""JSON API of the scheduled jobs (`/api/v1/ops/jobs`), permission `ops:admin`.

Platform operators see every job's platform-wide bookkeeping and may run any job for every
tenant; a tenant admin sees the schedules, only their own tenant's manual runs, and may run only
the jobs that take a tenant, for their own tenant (see `integrations.job_runs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post

from retaguarda.integrations.job_runs import is_platform_operator, recent_runs, scope_for
from retaguarda.shared.errors import NotFoundError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, require_principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container
    from retaguarda.web.principal import Principal

OPS = {"permission": "ops:admin"}

_PLATFORM_FIELDS = ("runs", "last_run_at", "last_result", "last_finished_at")


def job_rows(container: Container, principal: Principal | None = None) -> list[dict[str, Any]]:
    """Every job; for a tenant admin, the platform-wide results are replaced by their own runs."""
    rows = container.scheduler.list_jobs()
    if principal is None or is_platform_operator(container.settings, principal):
        return [{**r, "runnable": True} for r in rows]
    runs = recent_runs(container.engine, principal.tenant_id, limit=500)
    out = []
    for row in rows:
        mine = [r for r in runs if r["job"] == row["name"]]
        last = mine[0] if mine else None
        out.append({
            **{k: v for k, v in row.items() if k not in _PLATFORM_FIELDS},
            "runs": len(mine),
            "last_run_at": last["requested_at"] if last else None,
            "last_result": last["result"] if last else "",
            "last_finished_at": last["finished_at"] if last else None,
            "runnable": bool(row.get("per_tenant")),
        })
    return out


def jobs_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    container = container_of(request)
    principal = require_principal(request)
    operator = is_platform_operator(container.settings, principal)
    dispatcher = container.dispatcher
    return {
        "items": job_rows(container, principal),
        "dispatcher": dispatcher.status() if dispatcher and operator else None,
        "runs": recent_runs(container.engine, None if operator else principal.tenant_id),
        "platform_operator": operator,
    }


def run_job_for(request: Request[Any, Any, Any], name: str) -> int:
    """Runs `name` as the caller may (403 otherwise); returns the recorded run's id."""
    container = container_of(request)
    principal = require_principal(request)
    scheduler = container.scheduler
    job = scheduler.jobs.get(name)
    if job is None:
        raise NotFoundError("Job", name)
    tenant_id = scope_for(container.settings, principal, job)
    return int(scheduler.run_now(name, tenant_id=tenant_id, requested_by=principal.actor))


@get("/ops/jobs", opt=OPS, sync_to_thread=True, summary="Periodic jobs: schedule, last and next run")
def jobs(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return jsonable(jobs_view(request))


@post("/ops/jobs/{name:str}/run", opt=OPS, sync_to_thread=True, status_code=202,
      summary="Run a periodic job now (for the caller's tenant unless a platform operator)")
def run_job(request: Request[Any, Any, Any], name: str) -> dict[str, Any]:
    run_id = run_job_for(request, name)
    container = container_of(request)
    row = next(r for r in job_rows(container, require_principal(request)) if r["name"] == name)
    return jsonable({**row, "run_id": run_id})


routes = [jobs, run_job]
