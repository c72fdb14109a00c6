"""JSON API of the audit context (`/api/v1/audit/...`): read-only.

The trail and the seal need `audit:read`; one aggregate's history and past state are also open to
staff who may see that kind of record (`HISTORY_PERMISSIONS`, e.g. `support:read` for tickets).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import Parameter

from projections.audit.audit_trail import MAX_PER_PAGE, list_audit_events
from retaguarda.audit import application as audit
from retaguarda.readdb import tenant_reader
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, require_principal

READ = {"permission": "audit:read"}
# One aggregate's history: auditors, or staff who may see that kind of record (checked per type).
HISTORY = {"permission": tuple(sorted({"audit:read", *audit.HISTORY_PERMISSIONS.values()}))}


def _check_history(principal: Any, found: dict[str, Any]) -> None:
    if not audit.can_read_history(principal, found["aggregate_type"]):
        from retaguarda.shared.errors import PermissionDeniedError

        raise PermissionDeniedError(
            f"permission {audit.history_permission(found['aggregate_type'])} or audit:read required")


@get("/audit/events", opt=READ, sync_to_thread=True, summary="Audit trail (newest first)")
def list_events(
    request: Request[Any, Any, Any],
    aggregate_id: str = "",
    actor: str = "",
    type: str = "",
    since: str = "",
    until: str = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=MAX_PER_PAGE),
) -> dict[str, Any]:
    principal = require_principal(request)
    start = audit.parse_instant(since, "since")
    end = audit.parse_instant(until, "until", end_of_day=True)
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        result = list_audit_events(conn, principal.tenant_id, aggregate_id=aggregate_id, actor=actor,
                                   type=type, since=start, until=end, page=page, per_page=per_page)
    return jsonable(result)


@get("/audit/aggregates/{aggregate_id:str}", opt=HISTORY, sync_to_thread=True,
     summary="Full history of one aggregate")
def aggregate_history(request: Request[Any, Any, Any], aggregate_id: str) -> dict[str, Any]:
    principal = require_principal(request)
    found = audit.history(container_of(request).store, aggregate_id, principal.tenant_id)
    _check_history(principal, found)
    return found


@get("/audit/aggregates/{aggregate_id:str}/state", opt=HISTORY, sync_to_thread=True,
     summary="State of one aggregate as of a version or an instant")
def aggregate_state(request: Request[Any, Any, Any], aggregate_id: str,
                    version: str | None = None, at: str | None = None) -> dict[str, Any]:
    principal = require_principal(request)
    number = audit.parse_version(version, "version")
    instant = audit.parse_instant(at, "at")
    kind = audit.aggregate_type(container_of(request).store, aggregate_id, principal.tenant_id)
    _check_history(principal, {"aggregate_type": kind})
    return audit.state(container_of(request).store, aggregate_id, principal.tenant_id,
                       version=number, at=instant)


@post("/audit/verify", opt=READ, sync_to_thread=True, status_code=200,
      summary="Recompute the tamper-evident seal over the whole log")
def verify_seal(request: Request[Any, Any, Any]) -> dict[str, Any]:
    container = container_of(request)
    return audit.verify(container.store, container.engine, audit.seal_key_of(container.settings)).as_dict()


routes = [list_events, aggregate_history, aggregate_state, verify_seal]
