"""JSON API of the scheduled jobs (`/api/v1/ops/jobs`), permission `ops:admin`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post

from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

OPS = {"permission": "ops:admin"}


def job_rows(container: Container) -> list[dict[str, Any]]:
    return container.scheduler.list_jobs()


@get("/ops/jobs", opt=OPS, sync_to_thread=True, summary="Periodic jobs: schedule, last and next run")
def jobs(request: Request[Any, Any, Any]) -> dict[str, Any]:
    container = container_of(request)
    dispatcher = container.dispatcher
    return jsonable({"items": job_rows(container),
                     "dispatcher": dispatcher.status() if dispatcher else None})


@post("/ops/jobs/{name:str}/run", opt=OPS, sync_to_thread=True, status_code=202,
      summary="Run a periodic job now")
def run_job(request: Request[Any, Any, Any], name: str) -> dict[str, Any]:
    container = container_of(request)
    container.scheduler.run_now(name)
    row = next(r for r in job_rows(container) if r["name"] == name)
    return jsonable(row)


routes = [jobs, run_job]
