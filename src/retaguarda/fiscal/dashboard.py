"""Dashboard cards of the fiscal context: this month's KPIs and the certificate-expiry banner."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from projections.fiscal.kpis import kpis
from projections.fiscal.nfse_list import count_by_status
from projections.fiscal.settings_view import get_certificate_row, get_settings_row
from retaguarda.i18n import format_number, ngettext
from retaguarda.i18n import gettext as _


def cards(conn: Any, principal: Any) -> list[dict[str, Any]]:
    if not principal.can("fiscal:read"):
        return []
    tenant_id = principal.tenant_id
    settings = get_settings_row(conn, tenant_id)
    if settings is None:
        return []
    now = datetime.now(timezone.utc)
    out: list[dict[str, Any]] = []
    cert = get_certificate_row(conn, tenant_id)
    if cert is not None:
        days = (cert["valid_until"] - now).days
        if cert["expired"] or days < 0:
            out.append({"title": _("NFS-e certificate EXPIRED — upload a new one"), "value": "!",
                        "href": "/fiscal/settings", "tone": "bad", "testid": "fiscal-certificate-banner"})
        elif cert["warned_days"] is not None or days <= 30:
            out.append({"title": ngettext("NFS-e certificate expires in %(num)s day",
                                              "NFS-e certificate expires in %(num)s days", days),
                        "value": days, "href": "/fiscal/settings", "tone": "warn" if days > 7 else "bad",
                        "testid": "fiscal-certificate-banner"})
    report = kpis(conn, tenant_id, now)
    k = report["this_month"]
    median = report["median_seconds_this_month"]
    dead = sum(n for status, n in count_by_status(conn, tenant_id).items()
               if status in ("failed", "cancellation_failed"))
    sandbox = settings["backend"] == "sandbox"
    out += [
        {"title": _("NFS-e issued this month (sandbox)") if sandbox else _("NFS-e issued this month"), "value": k["issued"], "href": "/fiscal/nfse?status=authorized",
         "tone": "ok", "testid": "fiscal-issued"},
        {"title": _("NFS-e pending"), "value": k["pending"], "href": "/fiscal/nfse?status=requested",
         "testid": "fiscal-pending"},
        {"title": _("NFS-e rejected this month"), "value": k["rejected"], "href": "/fiscal/nfse?status=rejected",
         "tone": "warn" if k["rejected"] else "", "testid": "fiscal-rejected"},
        {"title": _("NFS-e cancelled this month"), "value": k["cancelled"], "href": "/fiscal/nfse?status=cancelled",
         "testid": "fiscal-cancelled"},
        {"title": _("NFS-e dead letters"), "value": dead, "href": "/fiscal/dead-letters",
         "tone": "bad" if dead else "", "testid": "fiscal-dead-letters"},
        {"title": _("Median request → authorization (this month)"),
         "value": format_number(median, 1) + " s" if median is not None else "—", "href": "/fiscal/book",
         "testid": "fiscal-median"},
    ]
    return out
