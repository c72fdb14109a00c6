"""Workers of the cnpj context: queued checks, scheduled checks, retention, CSV imports, webhooks.

Jobs take the container (passed by the job wrapper) and ids only.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa
import structlog

from retaguarda.integrations import PermanentError, TransientError, job
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.cnpj")


def _give_up_check(container: Container, check_id: str, *, error: str, attempts: int) -> None:
    container.cnpj_checks.fail_queued(check_id, f"{error} (after {attempts} attempts)")


@job(actor_name="cnpj.run_check", queue_name="cnpj", max_retries=3, min_backoff=500, max_backoff=10_000,
     on_give_up=_give_up_check)
def run_check(container: Container, check_id: str) -> str:
    """Runs one queued check (the provider chain does its own fallbacks; failures are recorded)."""
    saved = container.cnpj_checks.run_queued(check_id)
    return "already done" if saved is None else saved.aggregate.status


@job(actor_name="cnpj.scheduled_checks", queue_name="cnpj", max_retries=2)
def scheduled_checks(c: Container) -> str:
    """Queues a check for every target whose schedule (daily/weekly/monthly) says it is due."""
    from projections.cnpj.watchlist import due_targets
    from retaguarda.cnpj.domain import SCHEDULE_DAYS
    from retaguarda.cnpj.application import QuotaExceededError

    now = c.clock.now()
    with c.engine.connect() as conn:
        due = due_targets(conn, now, SCHEDULE_DAYS)
    queued = skipped = 0
    for target in due:
        meta = Meta(tenant_id=target["tenant_id"], actor="system:cnpj.scheduled_checks",
                    correlation_id=new_correlation_id(), at=now)
        try:
            c.cnpj_checks.enqueue(meta, target["id"])
            queued += 1
        except QuotaExceededError:
            skipped += 1
            log.warning("cnpj_scheduled_check_over_quota", tenant_id=target["tenant_id"], target=target["id"])
    return f"queued {queued}, over quota {skipped}"


@job(actor_name="cnpj.retention", queue_name="cnpj", max_retries=2)
def retention(c: Container) -> str:
    """Erases (purge + crypto-shred) completed checks older than each tenant's retention days."""
    from projections.cnpj.watchlist import checks_older_than, tenants_with_checks

    now = c.clock.now()
    erased = 0
    with c.engine.connect() as conn:
        tenants = tenants_with_checks(conn)
    for tenant_id in tenants:
        days = int(c.cnpj_checks.options(tenant_id)["retention_days"])
        with c.engine.connect() as conn:
            old = checks_older_than(conn, tenant_id, now - timedelta(days=days))
        meta = Meta(tenant_id=tenant_id, actor="system:cnpj.retention", correlation_id=new_correlation_id(),
                    at=now)
        for check_id in old:
            if c.cnpj_checks.erase(meta, check_id, f"retention ({days} days)").position:
                erased += 1  # (a check the read model still lists but already erased counts once)
    return f"erased {erased}"


@job(actor_name="cnpj.import_targets", queue_name="cnpj", max_retries=0)
def import_targets(c: Container, import_id: str) -> str:
    """Adds the targets of one uploaded CSV, recording progress and the per-row error report."""
    from retaguarda.cnpj.tables import imports

    with c.engine.connect() as conn:
        row = conn.execute(sa.select(imports).where(imports.c.id == import_id)).first()
    if row is None or row.status not in ("queued", "running"):
        return "nothing to do"
    meta = Meta(tenant_id=row.tenant_id, actor=row.actor, correlation_id=new_correlation_id(),
                at=c.clock.now())

    def progress(done: int, created: int, failed: int, errors: list[dict[str, Any]]) -> None:
        with c.engine.begin() as conn:
            conn.execute(sa.update(imports).where(imports.c.id == import_id).values(
                status="running", done=done, created=created, failed=failed, errors=list(errors),
                updated_at=c.clock.now()))

    try:
        result = c.cnpj_checks.import_rows(meta, row.content, progress)
    except Exception as exc:
        with c.engine.begin() as conn:
            conn.execute(sa.update(imports).where(imports.c.id == import_id).values(
                status="failed", errors=[{"row": 0, "field": "file", "message": repr(exc)}],
                updated_at=c.clock.now()))
        raise
    c.wait_for(c.store.head())  # "done" means the watch-list already lists the new targets
    with c.engine.begin() as conn:
        conn.execute(sa.update(imports).where(imports.c.id == import_id).values(
            status="done", total=result["total"], done=result["total"], created=result["created"],
            failed=result["failed"], errors=result["errors"], content="", updated_at=c.clock.now()))
    return f"created {result['created']}, failed {result['failed']}"


def _give_up_webhook(container: Container, check_id: str, version: int, *, error: str, attempts: int) -> None:
    container.cnpj_checks.webhook_failed(check_id, error, attempts)


@job(actor_name="cnpj.alert_webhook", queue_name="cnpj", max_retries=5, min_backoff=1000,
     max_backoff=60_000, throws=(PermanentError,), on_give_up=_give_up_webhook)
def alert_webhook(c: Container, check_id: str, version: int) -> str:
    """POSTs the change alert to the tenant's webhook (if set); idempotency key check id:version."""
    check = c.cnpj.get_check(None, check_id)
    url = c.cnpj_checks.options(check.tenant_id).get("alert_webhook")
    if not url or not check.changes:
        return "no webhook"
    if getattr(check, "webhook_status", None) == "failed" and version <= check.version:
        return "parked (failed; retry from the check)"
    body = {"type": "cnpj.changes_detected", "check_id": check_id, "target_id": check.target_id,
            "cnpj": check.cnpj, "changes": check.changes}
    try:
        r = httpx.post(url, content=json.dumps(body, default=str),
                       headers={"content-type": "application/json", "idempotency-key": f"{check_id}:{version}"},
                       timeout=httpx.Timeout(5.0, connect=2.0))
    except httpx.TransportError as exc:
        raise TransientError(f"webhook unreachable: {type(exc).__name__}") from None
    if r.status_code >= 500 or r.status_code == 429:
        raise TransientError(f"webhook answered {r.status_code}")
    if r.status_code >= 400:
        raise PermanentError(f"webhook refused the alert ({r.status_code})")
    return f"delivered {r.status_code}"
