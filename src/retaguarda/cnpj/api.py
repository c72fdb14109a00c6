"""JSON API of the cnpj context (`/api/v1/cnpj/...`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.params import Parameter, QueryParameter

from projections.cnpj.watchlist import get_check_row, list_targets
from retaguarda.cnpj.application import QuotaExceededError
from retaguarda.cnpj.crypto import ERASED
from retaguarda.cnpj.domain import clean_cnpj
from retaguarda.cnpj.views import _target, build_report, check_body, import_row, start_import, usage_body
from retaguarda.i18n import _
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import NotFoundError, TooManyRequestsError, ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import container_of, meta_of, read_one, require_principal
from retaguarda.web.errors import problem

READ = {"permission": "cnpj:read"}
WRITE = {"permission": "cnpj:write"}
ADMIN = {"permission": "cnpj:admin"}
IP_LIMIT = 3000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def throttle(request: Request[Any, Any, Any]) -> None:
    """Per-tenant and per-client-IP request limits on the CNPJ API (429 with Retry-After)."""
    p = require_principal(request)
    c = container_of(request)
    limiter = c.cnpj_limiter
    rate = int(c.cnpj_checks.options(p.tenant_id)["rate_per_minute"])
    wait = limiter.hit(f"tenant:{p.tenant_id}", rate)
    if wait:
        raise TooManyRequestsError(f"CNPJ API rate limit of {rate} requests per minute for this tenant", wait)
    ip = request.client.host if request.client else "unknown"
    wait = limiter.hit(f"ip:{ip}", max(IP_LIMIT, rate))
    if wait:
        raise TooManyRequestsError("CNPJ API rate limit for this client address", wait)


def quota_problem(exc: QuotaExceededError) -> Response[dict[str, Any]]:
    return problem(429, "Monthly CNPJ check quota exceeded", str(exc), type_="/problems/cnpj-quota",
                   headers={"Retry-After": str(exc.retry_after)}, limit=exc.limit, usage=exc.usage,
                   reset_at=exc.reset_at.isoformat(), plan=exc.plan, upgrade_url="/cnpj/usage")


@post("/cnpj/targets", opt=WRITE, sync_to_thread=True, summary="Add a CNPJ to the watch-list")
def create_target(request: Request[Any, Any, Any], data: dict[str, Any]) -> Response[dict[str, Any]]:
    throttle(request)
    fields = {k: data[k] for k in ("cnpj", "label", "tags", "schedule", "alerts") if k in data}
    if "cnpj" not in fields:
        raise ValidationError("cnpj", "cnpj is required")
    saved = container_of(request).cnpj.add_target(meta_of(request), **fields)
    target_id = str(saved.aggregate.id)
    return Response(_target(request, target_id), status_code=201,
                    headers={"Location": f"/api/v1/cnpj/targets/{target_id}"})


@get("/cnpj/targets", opt=READ, sync_to_thread=True, summary="The watch-list")
def list_(
    request: Request[Any, Any, Any],
    search: str = "",
    situation: str = Parameter(default="", pattern="^(|ATIVA|SUSPENSA|INAPTA|BAIXADA|NULA|unchecked|"
                                                   "ativa|suspensa|inapta|baixada|nula)$"),
    tag: str = "",
    archived: bool = False,
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    throttle(request)
    p = require_principal(request)
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        return jsonable(list_targets(conn, p.tenant_id, search=search, situation=situation, tag=tag,
                                     archived=archived, page=page, per_page=per_page))


@get("/cnpj/targets/{target_id:str}", opt=READ, sync_to_thread=True, summary="One target")
def read(request: Request[Any, Any, Any], target_id: str) -> dict[str, Any]:
    throttle(request)
    return _target(request, target_id)


@patch("/cnpj/targets/{target_id:str}", opt=WRITE, sync_to_thread=True, summary="Edit a target")
def update(request: Request[Any, Any, Any], target_id: str, data: dict[str, Any]) -> dict[str, Any]:
    throttle(request)
    if not data:
        raise ValidationError("body", "send at least one field to change")
    if "cnpj" in data:
        raise ValidationError("cnpj", "the CNPJ of a target cannot change; archive it and add another")
    container_of(request).cnpj.update_target(meta_of(request), target_id, **data)
    return _target(request, target_id)


@delete("/cnpj/targets/{target_id:str}", opt=WRITE, sync_to_thread=True, summary="Archive a target",
        status_code=204)
def archive(request: Request[Any, Any, Any], target_id: str) -> None:
    throttle(request)
    container_of(request).cnpj.archive_target(meta_of(request), target_id)


@post("/cnpj/targets/{target_id:str}/check", opt=WRITE, sync_to_thread=True, status_code=200,
      summary="Check a CNPJ now (sync), or queue it (?async=true → 202 {job_id})")
def check(request: Request[Any, Any, Any], target_id: str, refresh: bool = False,
          async_: Annotated[bool, QueryParameter(name="async", description="queue the check (202 {job_id})")]
          = False) -> Response[dict[str, Any]]:
    throttle(request)
    c = container_of(request)
    p = require_principal(request)
    meta = meta_of(request)
    try:
        with c.cnpj_checks.telemetry.span("cnpj.api.check", target=target_id, tenant=p.tenant_id):
            if async_:
                saved = c.cnpj_checks.enqueue(meta, target_id, refresh=refresh)
                job_id = str(saved.aggregate.id)
                return Response({"job_id": job_id, "check_id": job_id, "status": "queued",
                                 "status_url": f"/api/v1/cnpj/jobs/{job_id}"}, status_code=202,
                                headers={"Location": f"/api/v1/cnpj/jobs/{job_id}"})
            saved = c.cnpj_checks.check_now(meta, target_id, refresh=refresh)
    except QuotaExceededError as exc:
        return quota_problem(exc)
    body = jsonable(c.cnpj_checks.view(saved.aggregate, personal_data=p.can("cnpj:personal_data")))
    if body["status"] == "failed":
        return problem(502, "CNPJ check failed", body.get("message", ""), type_="/problems/cnpj-check-failed",
                       check_id=body["check_id"], errors=None, attempts=body["errors"])  # type: ignore[return-value]
    return Response(body, status_code=200)


@get("/cnpj/jobs/{job_id:str}", opt=READ, sync_to_thread=True, summary="State of a queued check")
def job_status(request: Request[Any, Any, Any], job_id: str) -> dict[str, Any]:
    row = read_one(request, get_check_row, "Job", job_id)
    return check_body(request, row)


@get("/cnpj/checks/{check_id:str}", opt=READ, sync_to_thread=True, summary="One check")
def read_check(request: Request[Any, Any, Any], check_id: str) -> dict[str, Any]:
    row = read_one(request, get_check_row, "CnpjCheck", check_id)
    return check_body(request, row)


@get("/cnpj/targets/{target_id:str}/report", opt=READ, sync_to_thread=True,
     summary="Latest snapshot and change timeline of a target")
def report(request: Request[Any, Any, Any], target_id: str) -> dict[str, Any]:
    throttle(request)
    return build_report(request, target_id)


@post("/cnpj/targets/import", opt=WRITE, status_code=202,
      summary="Bulk import of targets from CSV (cnpj,label,tags,schedule)")
async def import_targets(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    throttle(request)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError("file", "send the CSV as the `file` field")
        raw = await upload.read()
    else:
        raw = await request.body()
    if not raw.strip():
        raise ValidationError("file", "the CSV is empty")
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationError("file", f"the CSV is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return Response(start_import(request, text), status_code=202)


@get("/cnpj/imports/{import_id:str}", opt=READ, sync_to_thread=True, summary="Progress of a CSV import")
def import_status(request: Request[Any, Any, Any], import_id: str) -> dict[str, Any]:
    return import_row(request, import_id)


@get("/cnpj/usage", opt=READ, sync_to_thread=True, summary="Checks per day of a month, by provider and cache")
def usage(request: Request[Any, Any, Any], month: str = "") -> dict[str, Any]:
    throttle(request)
    return usage_body(request, month)


@get("/cnpj/settings", opt=ADMIN, sync_to_thread=True, summary="The tenant's CNPJ settings")
def read_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    return container_of(request).cnpj.settings_of(p.tenant_id)


@patch("/cnpj/settings", opt=ADMIN, sync_to_thread=True, summary="Change plan, provider order, TTL, retention")
def change_settings(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    c = container_of(request)
    c.cnpj.configure(meta_of(request), **data)
    return c.cnpj.settings_of(require_principal(request).tenant_id)


@get("/cnpj/providers", opt=READ, sync_to_thread=True, summary="Provider health (circuit breakers)")
def providers(request: Request[Any, Any, Any]) -> dict[str, Any]:
    c = container_of(request)
    cache = c.cnpj_checks.cache
    return {"providers": c.cnpj_checks.chain.health(),
            "cache": {"backend": cache.backend, "hits": cache.hits, "misses": cache.misses}}


@post("/cnpj/checks/{check_id:str}/erase", opt=ADMIN, sync_to_thread=True, status_code=200,
      summary="Erase a check's personal data now (LGPD request)")
def erase(request: Request[Any, Any, Any], check_id: str) -> dict[str, Any]:
    row = read_one(request, get_check_row, "CnpjCheck", check_id)
    container_of(request).cnpj_checks.erase(meta_of(request), row["id"], "erasure request")
    return check_body(request, read_one(request, get_check_row, "CnpjCheck", check_id))


@post("/cnpj/checks/{check_id:str}/webhook/retry", opt=WRITE, sync_to_thread=True, status_code=202,
      summary="Post a failed change alert to the tenant webhook again")
def retry_webhook(request: Request[Any, Any, Any], check_id: str) -> dict[str, Any]:
    container_of(request).cnpj_checks.retry_webhook(meta_of(request), check_id)
    return {"check_id": check_id, "webhook": "retrying"}


@get("/cnpj/lookup/{cnpj:str}", opt=WRITE, sync_to_thread=True,
     summary="Company name and address of a CNPJ for filling a form (cache, then the provider chain; "
             "nothing is recorded)")
def lookup(request: Request[Any, Any, Any], cnpj: str) -> Response[dict[str, Any]]:
    throttle(request)
    number = clean_cnpj(cnpj)
    outcome = container_of(request).cnpj_checks.lookup(require_principal(request).tenant_id, number)
    if outcome.found is None:
        return problem(503, _("CNPJ lookup unavailable"), _("The CNPJ services did not answer; type the data."),
                       headers={"Retry-After": "30"})
    if not outcome.found or not outcome.snapshot:
        raise NotFoundError("CNPJ", number)
    snap = outcome.snapshot
    address = snap.get("address") or {}
    situation = snap.get("situacao") or {}
    return Response({
        "cnpj": number, "razao_social": snap.get("razao_social"), "nome_fantasia": snap.get("nome_fantasia"),
        "situation": situation.get("description"),
        "address": {"cep": address.get("cep"), "street": address.get("street"), "number": address.get("number"),
                    "complement": address.get("complement"), "district": address.get("district"),
                    "city": address.get("municipality"), "uf": address.get("uf"),
                    "ibge_code": address.get("municipality_ibge")},
        "provider": outcome.provider, "cache_hit": outcome.cache_hit,
    }, headers={"Cache-Control": "private, max-age=600"})


routes = [create_target, list_, read, update, archive, check, job_status, read_check, report, import_targets,
          import_status, usage, read_settings, change_settings, providers, erase, retry_webhook, lookup]

__all__ = ["ERASED", "routes"]
