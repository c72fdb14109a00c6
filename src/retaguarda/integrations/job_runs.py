"""Manual job runs: who asked, for which tenant, and how it ended.

A platform operator (`settings.platform_operators`, set at deployment) may run any periodic job
for every tenant. A tenant admin may run only the jobs that take a tenant (`PeriodicJob.per_tenant`),
and always for their own tenant; they see only their own tenant's runs. Every manual run is a row in
`job_runs` naming the requester; the job's actor fills in the result when it finishes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from litestar.exceptions import PermissionDeniedException

from projections.base import metadata
from retaguarda.shared.clock import as_utc

if TYPE_CHECKING:
    from retaguarda.web.principal import Principal

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(80), nullable=False),
    sa.Column("tenant_id", sa.String(36), nullable=True),  # null: a platform-wide run (operators)
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("result", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_job_runs_tenant_id_job", "tenant_id", "job"),
)

RUN_OPTION = "job_run_id"
"""Message option carrying the `job_runs.id` of a manual run (see `jobs._wrap`)."""


def is_platform_operator(settings: Any, principal: Principal | None) -> bool:
    """Configured at deployment: a listed user id or e-mail of a signed-in user (never an API key)."""
    if principal is None or principal.kind != "user":
        return False
    allowed = {o.strip().lower() for o in settings.platform_operators if o.strip()}
    return principal.id.lower() in allowed or (bool(principal.email) and principal.email.lower() in allowed)


def scope_for(settings: Any, principal: Principal, job: Any) -> str | None:
    """The tenant a manual run of `job` by `principal` is for (None: every tenant), or 403."""
    if is_platform_operator(settings, principal):
        return None
    if not getattr(job, "per_tenant", False):
        raise PermissionDeniedException(
            f"job {job.name} runs for every tenant; only a platform operator may run it")
    return principal.tenant_id


def record_request(conn: Any, job: str, tenant_id: str | None, requested_by: str, at: datetime) -> int:
    result = conn.execute(sa.insert(job_runs).values(
        job=job, tenant_id=tenant_id, requested_by=requested_by[:200], requested_at=at, result=""))
    return int(result.inserted_primary_key[0])


def record_finish(engine: Any, run_id: int, result: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(job_runs).where(job_runs.c.id == run_id).values(
            result=result[:500], finished_at=at))


def recent_runs(engine: Any, tenant_id: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; `tenant_id` None means every run (operators)."""
    query = sa.select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(job_runs.c.tenant_id == tenant_id)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return [{"id": r.id, "job": r.job, "tenant_id": r.tenant_id, "requested_by": r.requested_by,
             "requested_at": as_utc(r.requested_at), "finished_at": as_utc(r.finished_at),
             "result": r.result} for r in rows]


__all__ = [
    "RUN_OPTION",
    "is_platform_operator",
    "job_runs",
    "recent_runs",
    "record_finish",
    "record_request",
    "scope_for",
]
