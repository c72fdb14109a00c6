"""Request-level read helpers shared by the CNPJ JSON API (`api`) and HTML pages (`pages`).

They turn read-model rows into the bodies both surfaces show (check body with personal data
opened per role, target report, CSV import progress, monthly usage), so neither surface imports
the other.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from litestar import Request

from projections.cnpj.usage import usage_report
from projections.cnpj.watchlist import checks_of_target, get_target_row
from retaguarda.cnpj.application import merge_personal
from retaguarda.cnpj.tables import imports
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, read_one, require_principal


def _target(request: Request[Any, Any, Any], target_id: str) -> dict[str, Any]:
    return jsonable(read_one(request, get_target_row, "Target", target_id))


def check_body(request: Request[Any, Any, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A check read-model row as the API's check body (personal data opened and masked per role)."""
    p = require_principal(request)
    checks = container_of(request).cnpj_checks
    result = None
    if row["status"] == "completed" and row["found"]:
        if row["erased"] or row["snapshot"] is None:
            result = {"cnpj": row["cnpj"], "personal_data_erased": True, "purged": True}
        else:
            personal = checks.keys.open(row["id"], row["personal"])
            result = merge_personal(row["snapshot"], personal, personal_data=p.can("cnpj:personal_data"))
    body = {
        "check_id": row["id"], "job_id": row["id"], "target_id": row["target_id"], "cnpj": row["cnpj"],
        "status": row["status"], "mode": row["mode"], "provider": row["provider"],
        "cache_hit": row["cache_hit"], "found": row["found"], "sandbox": row["provider"] == "sandbox",
        "duration_ms": row["duration_ms"], "errors": row["errors"], "changes": row["changes"],
        "alerts": row["alerts"], "erased": row["erased"], "requested_at": row["requested_at"],
        "completed_at": row["completed_at"], "result": result,
    }
    return jsonable(body)


def build_report(request: Request[Any, Any, Any], target_id: str) -> dict[str, Any]:
    p = require_principal(request)
    target = read_one(request, get_target_row, "Target", target_id)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        rows = checks_of_target(conn, p.tenant_id, target_id, limit=100)
    latest = next((r for r in rows if r["status"] == "completed" and r["found"] and not r["erased"]), None)
    timeline = [{"check_id": r["id"], "at": r["completed_at"], "provider": r["provider"],
                 "changes": r["changes"], "alerts": r["alerts"]} for r in rows if r["changes"]]
    history = [{"check_id": r["id"], "status": r["status"], "provider": r["provider"],
                "cache_hit": r["cache_hit"], "found": r["found"], "situation": r["situation"],
                "erased": r["erased"], "requested_at": r["requested_at"], "completed_at": r["completed_at"],
                "duration_ms": r["duration_ms"], "errors": r["errors"]} for r in rows]
    return jsonable({"target": target, "latest": check_body(request, latest) if latest else None,
                     "timeline": timeline, "checks": history})


def start_import(request: Request[Any, Any, Any], text: str) -> dict[str, Any]:
    c = container_of(request)
    p = require_principal(request)
    import_id = str(uuid.uuid4())
    now = c.clock.now()
    total = max(0, len([line for line in text.splitlines() if line.strip()])
                - (1 if re.match(r"^\s*cnpj\b", text, re.I) else 0))
    with c.engine.begin() as conn:
        conn.execute(sa.insert(imports).values(id=import_id, tenant_id=p.tenant_id, actor=p.actor,
                                               status="queued", total=total, done=0, created=0, failed=0,
                                               errors=[], content=text, created_at=now, updated_at=now))
    c.actors["cnpj.import_targets"].send(import_id)
    return {"import_id": import_id, "status": "queued", "total": total,
            "status_url": f"/api/v1/cnpj/imports/{import_id}"}


def import_row(request: Request[Any, Any, Any], import_id: str) -> dict[str, Any]:
    p = require_principal(request)
    with container_of(request).engine.connect() as conn:
        row = conn.execute(sa.select(imports).where(imports.c.id == import_id,
                                                    imports.c.tenant_id == p.tenant_id)).first()
    if row is None:
        raise NotFoundError("Import", import_id)
    return jsonable({"import_id": row.id, "status": row.status, "total": row.total, "done": row.done,
                     "created": row.created, "failed": row.failed, "errors": row.errors,
                     "created_at": row.created_at, "updated_at": row.updated_at})


def usage_body(request: Request[Any, Any, Any], month: str) -> dict[str, Any]:
    p = require_principal(request)
    c = container_of(request)
    quota = c.cnpj_checks.quota(p.tenant_id)
    month = month or quota["month"]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValidationError("month", "month must be YYYY-MM")
    with tenant_reader(c.engine, p.tenant_id) as conn:
        body = usage_report(conn, p.tenant_id, month)
    body["quota"] = {k: quota[k] for k in ("plan", "limit", "usage", "remaining", "reset_at", "month")}
    return jsonable(body)

