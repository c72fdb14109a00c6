"""Jobs of the portal context: the periodic radacct reader."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from retaguarda.integrations import job
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

POLL_RADIUS = "portal.poll_radius"
log = structlog.get_logger(__name__)


@job(actor_name=POLL_RADIUS, queue_name="portal", max_retries=2, min_backoff=5000, max_backoff=60_000)
def poll_radius(container: Container) -> str:
    """Reads every configured tenant's radacct table from where it stopped (cursor in the log)."""
    from projections.portal.connections import active_radius_tenants

    with container.engine.connect() as conn:
        tenants = active_radius_tenants(conn)
    done = []
    for tenant_id in tenants:
        meta = Meta(
            tenant_id=tenant_id,
            actor=f"system:{POLL_RADIUS}",
            correlation_id=new_correlation_id(),
            at=container.clock.now(),
        )
        try:
            result = container.portal.poll_radius(meta)
        except Exception as exc:  # one tenant's unreachable database must not stop the others
            log.warning("radacct_poll_failed", tenant_id=tenant_id, error=type(exc).__name__)
            done.append(f"{tenant_id}: failed")
            continue
        done.append(f"{tenant_id}: {result.recorded} recorded")
    return "; ".join(done) or "no RADIUS source"
