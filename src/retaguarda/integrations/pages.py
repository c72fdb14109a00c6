"""Admin "Jobs" page: periodic jobs with schedule, last/next run, result and "run now"."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect

from retaguarda.i18n import gettext
from retaguarda.integrations.api import OPS, jobs_view, routes, run_job_for
from retaguarda.web.context import container_of
from retaguarda.web.html import Template


@get("/admin/jobs", opt=OPS, sync_to_thread=True, include_in_schema=False)
def jobs_page(request: Request[Any, Any, Any], done: str = "") -> Template:
    container = container_of(request)
    view = jobs_view(request)
    rows = view["items"]
    done = done if any(r["name"] == done for r in rows) else ""
    return Template("ops/jobs.html", context={
        "jobs": rows, "dispatcher": view["dispatcher"],
        "broker": type(container.broker).__name__,
        "flash": gettext("Job %(name)s was sent to the worker.", name=done) if done else None,
    })


@post("/admin/jobs/{name:str}/run", opt=OPS, sync_to_thread=True, include_in_schema=False)
def jobs_run(request: Request[Any, Any, Any], name: str) -> Redirect:
    run_job_for(request, name)
    return Redirect(f"/admin/jobs?done={name}", status_code=303)


pages = [jobs_page, jobs_run]
__all__ = ["pages", "routes"]
