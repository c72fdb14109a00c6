"""HTML pages of the cnpj context: watch-list, add/import, report with live check, exports, usage,
provider health and settings."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.cnpj.watchlist import get_check_row, get_target_row, list_targets
from retaguarda.cnpj.application import QuotaExceededError
from retaguarda.cnpj.domain import ALERTS, PLANS, PROVIDERS, SCHEDULES, SITUATIONS, clean_cnpj
from retaguarda.cnpj.views import build_report, check_body, import_row, start_import, usage_body
from retaguarda.i18n import N_, gettext
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import format_document
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.exports import csv_writer
from retaguarda.web.context import container_of, meta_of, read_one, require_principal
from retaguarda.web.html import Template

READ = {"permission": "cnpj:read"}
WRITE = {"permission": "cnpj:write"}
ADMIN = {"permission": "cnpj:admin"}
HEALTH = {"permission": ("cnpj:admin", "ops:admin")}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
BADGES = list(SITUATIONS.values())


def _fmt(cnpj: str) -> str:
    return format_document(cnpj) if cnpj else ""


@get("/cnpj", opt=READ, sync_to_thread=False, include_in_schema=False)
def home() -> Redirect:
    return Redirect("/cnpj/targets")


@get("/cnpj/targets", opt=READ, sync_to_thread=True, include_in_schema=False)
def watchlist(request: Request[Any, Any, Any], search: str = "", situation: str = "", tag: str = "",
              page: int = 1) -> Template:
    p = require_principal(request)
    situation = situation if situation in (*BADGES, "unchecked") else ""
    with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
        result = list_targets(conn, p.tenant_id, search=search, situation=situation, tag=tag, page=max(1, page))

    def page_url(n: int) -> str:
        return "/cnpj/targets?" + urlencode({"search": search, "situation": situation, "tag": tag, "page": n})

    partial = request.headers.get("hx-request") and request.headers.get("hx-target") == "target-rows"
    options = container_of(request).cnpj_checks.options(p.tenant_id)
    return Template("cnpj/_rows.html" if partial else "cnpj/list.html", context={
        "result": result, "search": search, "situation": situation, "tag": tag, "badges": BADGES,
        "page_url": page_url, "fmt": _fmt, "sandbox": options["providers"] == ["sandbox"],
        "values": {}, "errors": {}, "schedules": SCHEDULES,
    })


@post("/cnpj/targets/validate", opt=WRITE, sync_to_thread=False, include_in_schema=False)
def validate_cnpj(data: dict[str, Any] = FORM) -> Template:
    """Inline validation of the add form (HTMX, on input)."""
    value = str(data.get("cnpj", "")).strip()
    message, ok = "", False
    if value:
        try:
            ok, message = True, gettext("Valid CNPJ %(cnpj)s", cnpj=_fmt(clean_cnpj(value)))
        except ValidationError as exc:
            message = exc.message
    return Template("cnpj/_cnpj_hint.html", context={"ok": ok, "message": message})


@post("/cnpj/targets", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def add(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    fields = {"cnpj": data.get("cnpj", ""), "label": data.get("label", ""),
              "schedule": data.get("schedule") or "manual",
              "tags": [t for t in str(data.get("tags", "")).split(",") if t.strip()]}
    try:
        saved = container_of(request).cnpj.add_target(meta_of(request), **fields)
    except (ValidationError, ConflictError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {exc.field or "cnpj": exc.message}
        p = require_principal(request)
        with tenant_reader(container_of(request).engine, p.tenant_id) as conn:
            result = list_targets(conn, p.tenant_id)
        return Template("cnpj/list.html", status_code=422, context={
            "result": result, "search": "", "situation": "", "tag": "", "badges": BADGES,
            "page_url": lambda n: f"/cnpj/targets?page={n}", "fmt": _fmt, "sandbox": False,
            "values": data, "errors": errors, "schedules": SCHEDULES, "show_add": True})
    return Redirect(f"/cnpj/targets/{saved.aggregate.id}?created=1")


@get("/cnpj/targets/{target_id:str}", opt=READ, sync_to_thread=True, include_in_schema=False)
def report_page(request: Request[Any, Any, Any], target_id: str, tab: str = "report", created: int = 0) -> Template:
    report = build_report(request, target_id)
    return Template("cnpj/report.html", context={
        "r": report, "t": report["target"], "latest": report["latest"], "fmt": _fmt,
        "tab": tab if tab in ("report", "history", "checks") else "report",
        "flash": N_("Target added to the watch-list.") if created else None,
        "alerts": ALERTS, "schedules": SCHEDULES,
    })


@post("/cnpj/targets/{target_id:str}/check", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def check_now(request: Request[Any, Any, Any], target_id: str, data: dict[str, Any] = FORM) -> Template:
    """"Check now": queues the check and answers with a progress fragment that polls itself."""
    c = container_of(request)
    read_one(request, get_target_row, "Target", target_id)
    try:
        saved = c.cnpj_checks.enqueue(meta_of(request), target_id, refresh=bool(data.get("refresh")))
    except QuotaExceededError as exc:
        return Template("cnpj/_quota.html", context={"exc": exc})
    except ConflictError as exc:
        return Template("cnpj/_progress.html", context={"check": None, "error": exc.message})
    row = read_one(request, get_check_row, "CnpjCheck", str(saved.aggregate.id))
    return Template("cnpj/_progress.html", context={"check": check_body(request, row), "error": None})


@get("/cnpj/checks/{check_id:str}/progress", opt=READ, sync_to_thread=True, include_in_schema=False)
def progress(request: Request[Any, Any, Any], check_id: str) -> Template:
    row = read_one(request, get_check_row, "CnpjCheck", check_id)
    body = check_body(request, row)
    headers = {"HX-Refresh": "true"} if body["status"] in ("completed", "failed") else {}
    return Template("cnpj/_progress.html", context={"check": body, "error": None}, headers=headers)


@post("/cnpj/targets/{target_id:str}/edit", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def edit(request: Request[Any, Any, Any], target_id: str, data: dict[str, Any] = FORM) -> Any:
    alerts = [a for a in ALERTS if data.get(f"alert_{a}")]
    changes = {"label": data.get("label", ""), "schedule": data.get("schedule", "manual"),
               "tags": [t for t in str(data.get("tags", "")).split(",") if t.strip()], "alerts": alerts}
    container_of(request).cnpj.update_target(meta_of(request), target_id, **changes)
    return Redirect(f"/cnpj/targets/{target_id}")


@post("/cnpj/targets/{target_id:str}/archive", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def archive(request: Request[Any, Any, Any], target_id: str) -> Redirect:
    container_of(request).cnpj.archive_target(meta_of(request), target_id)
    return Redirect("/cnpj/targets")


@post("/cnpj/checks/{check_id:str}/webhook/retry", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def retry_webhook(request: Request[Any, Any, Any], check_id: str) -> Redirect:
    row = read_one(request, get_check_row, "CnpjCheck", check_id)
    container_of(request).cnpj_checks.retry_webhook(meta_of(request), check_id)
    return Redirect(f"/cnpj/targets/{row['target_id']}?tab=checks")


# Exports ---------------------------------------------------------------------------------

def _lines(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the report in the current locale; money and dates as Brazilians write them."""
    from retaguarda.i18n import format_date, format_datetime, format_money
    from retaguarda.i18n import gettext as _

    latest = (report.get("latest") or {}).get("result") or {}
    t = report["target"]
    rows = [("CNPJ", _fmt(t["cnpj"])), (_("Label"), t["label"] or "")]
    if not latest:
        return rows + [(_("Snapshot"), _("no completed check yet"))]
    sit = latest.get("situacao") or {}
    addr = latest.get("address") or {}
    yes_no = {True: _("yes"), False: _("no"), None: "-"}
    since = _("since %(date)s", date=format_date(sit["date"])) if sit.get("date") else ""
    rows += [
        (_("Legal name"), latest.get("razao_social") or ""), (_("Trade name"), latest.get("nome_fantasia") or ""),
        (_("Situação"), f"{sit.get('description') or ''} {since} {sit.get('reason') or ''}".strip()),
        (_("Opened"), format_date(latest.get("opening_date")) or ""),
        (_("Legal nature"), f"{(latest.get('legal_nature') or {}).get('code') or ''} "
                            f"{(latest.get('legal_nature') or {}).get('description') or ''}".strip()),
        (_("Size (porte)"), latest.get("porte") or ""),
        (_("Share capital"), format_money(latest.get("share_capital")) if latest.get("share_capital") else ""),
        (_("Main CNAE"), f"{(latest.get('main_cnae') or {}).get('code', '')} "
                         f"{(latest.get('main_cnae') or {}).get('description', '')}"),
        (_("Address"), f"{addr.get('street') or ''} {addr.get('number') or ''} {addr.get('complement') or ''}, "
                       f"{addr.get('district') or ''}, {addr.get('municipality') or ''}/{addr.get('uf') or ''} "
                       f"CEP {addr.get('cep') or ''} IBGE {addr.get('municipality_ibge') or '-'}"),
        ("E-mail", str(latest.get("email") or "")),
        (_("Phones"), ", ".join(latest["phones"]) if isinstance(latest.get("phones"), list)
         else str(latest.get("phones"))),
        (_("Simples / MEI"), f"{yes_no.get(latest.get('simples'), latest.get('simples'))} / "
                             f"{yes_no.get(latest.get('mei'), latest.get('mei'))}"),
    ]
    partners = latest.get("partners")
    if isinstance(partners, list):
        for p in partners:
            entry = format_date(p["entry_date"]) if p.get("entry_date") else "?"
            rows.append((_("Partner"), f"{p.get('name')} ({p.get('qualification') or ''}) "
                                       f"{p.get('document') or ''} " + _("since %(date)s", date=entry)))
    else:
        rows.append((_("Partners"), str(partners)))
    rows.append((_("Source"), _("%(provider)s at %(date)s", provider=report["latest"]["provider"],
                                date=format_datetime(report["latest"]["completed_at"]))
                 + (" " + _("(cache)") if report["latest"]["cache_hit"] else "")))
    for item in report["timeline"]:
        for change in item["changes"]:
            what = _("changed") if change.get("personal") else f"{change.get('before')} -> {change.get('after')}"
            rows.append((_("Change %(date)s", date=format_date(str(item["at"])[:10])), f"{change['field']}: {what}"))
    return rows


@get("/cnpj/targets/{target_id:str}/report.csv", opt=READ, sync_to_thread=True, include_in_schema=False)
def export_csv(request: Request[Any, Any, Any], target_id: str) -> Response[bytes]:
    report = build_report(request, target_id)
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    from retaguarda.i18n import gettext

    writer.writerow([gettext("Field"), gettext("Value")])
    writer.writerows(_lines(report))
    # text/csv only: Litestar adds "; charset=utf-8" itself (it was sent twice)
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="cnpj-{report["target"]["cnpj"]}.csv"'})


@get("/cnpj/targets/{target_id:str}/report.pdf", opt=READ, sync_to_thread=True, include_in_schema=False)
def export_pdf(request: Request[Any, Any, Any], target_id: str) -> Response[bytes]:
    from fpdf import FPDF

    report = build_report(request, target_id)

    def latin(text: str) -> str:
        return str(text).replace("→", "->").encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    from retaguarda.i18n import gettext

    pdf.cell(0, 10, latin(gettext("CNPJ report - %(cnpj)s", cnpj=_fmt(report["target"]["cnpj"]))),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if report.get("latest") and report["latest"].get("sandbox"):
        pdf.cell(0, 6, latin(gettext("Sandbox data (demo) - not a real lookup")), new_x="LMARGIN", new_y="NEXT")
    for label, value in _lines(report):
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(40, 6, latin(label))
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 6, latin(value), new_x="LMARGIN", new_y="NEXT")
    return Response(bytes(pdf.output()), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="cnpj-{report["target"]["cnpj"]}.pdf"'})


# Import -----------------------------------------------------------------------------------

@get("/cnpj/import", opt=WRITE, sync_to_thread=False, include_in_schema=False)
def import_form() -> Template:
    return Template("cnpj/import.html", context={"job": None, "error": None})


@post("/cnpj/import", opt=WRITE, include_in_schema=False)
async def import_upload(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    upload = form.get("file")
    raw = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    if not raw.strip():
        return Template("cnpj/import.html", status_code=422,
                        context={"job": None, "error": N_("Choose a CSV file with a cnpj column.")})
    text = raw.decode("utf-8-sig", errors="replace")
    job = start_import(request, text)
    return Template("cnpj/import.html", context={"job": job, "error": None})


@get("/cnpj/import/{import_id:str}", opt=WRITE, sync_to_thread=True, include_in_schema=False)
def import_progress(request: Request[Any, Any, Any], import_id: str) -> Template:
    return Template("cnpj/_import_progress.html", context={"job": import_row(request, import_id)})


# Usage, providers, settings ----------------------------------------------------------------

@get("/cnpj/usage", opt=READ, sync_to_thread=True, include_in_schema=False)
def usage_page(request: Request[Any, Any, Any], month: str = "") -> Template:
    try:
        body = usage_body(request, month)
    except ValidationError:
        body = usage_body(request, "")
    peak = max([d["checks"] for d in body["days"]] or [1])
    return Template("cnpj/usage.html", context={"u": body, "peak": peak, "plans": PLANS})


@get("/cnpj/providers", opt=HEALTH, sync_to_thread=True, include_in_schema=False)
def providers_page(request: Request[Any, Any, Any]) -> Template:
    checks = container_of(request).cnpj_checks
    return Template("cnpj/providers.html", context={
        "providers": checks.chain.health(), "cache": checks.cache,
        "options": checks.options(require_principal(request).tenant_id)})


@get("/cnpj/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_page(request: Request[Any, Any, Any], saved: int = 0) -> Template:
    options = container_of(request).cnpj.settings_of(require_principal(request).tenant_id)
    return Template("cnpj/settings.html", context={"o": options, "errors": {}, "providers": PROVIDERS,
                                                    "plans": PLANS, "flash": N_("Settings saved.") if saved else None})


@post("/cnpj/settings", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def settings_save(request: Request[Any, Any, Any], data: dict[str, Any] = FORM) -> Any:
    changes = {k: data[k] for k in ("plan", "monthly_quota", "cache_ttl_hours", "retention_days", "alert_webhook",
                                    "alert_emails", "rate_per_minute", "providers") if k in data}
    if changes.get("monthly_quota") == "":
        changes.pop("monthly_quota")
    try:
        container_of(request).cnpj.configure(meta_of(request), **changes)
    except ValidationError as exc:
        return Template("cnpj/settings.html", status_code=422, context={
            "o": {**container_of(request).cnpj.settings_of(require_principal(request).tenant_id), **data},
            "errors": exc.errors, "providers": PROVIDERS, "plans": PLANS, "flash": None})
    return Redirect("/cnpj/settings?saved=1")


pages = [retry_webhook, home, watchlist, validate_cnpj, add, report_page, check_now, progress, edit, archive, export_csv,
         export_pdf, import_form, import_upload, import_progress, usage_page, providers_page, settings_page,
         settings_save]
