"""Home-page cards of the cnpj context: targets by situation and this month's quota."""

from __future__ import annotations

from typing import Any

from projections.cnpj.usage import month_usage
from projections.cnpj.watchlist import count_by_situation
from retaguarda.cnpj.application import month_of
from retaguarda.i18n import gettext as _


def cards(conn: Any, principal: Any) -> list[dict[str, Any]]:
    if not principal.can("cnpj:read"):
        return []
    counts = count_by_situation(conn, principal.tenant_id)
    total = sum(counts.values())
    irregular = sum(n for s, n in counts.items() if s in ("SUSPENSA", "INAPTA", "BAIXADA", "NULA"))
    from datetime import datetime, timezone

    used = month_usage(conn, principal.tenant_id, month_of(datetime.now(timezone.utc)))
    return [
        {"title": _("CNPJs watched"), "value": total, "href": "/cnpj/targets", "tone": "ok", "testid": "card-cnpj-targets"},
        {"title": _("CNPJs not active"), "value": irregular, "href": "/cnpj/targets?situation=BAIXADA",
         "tone": "bad" if irregular else "ok", "testid": "card-cnpj-irregular"},
        {"title": _("CNPJ checks this month"), "value": used, "href": "/cnpj/usage", "tone": "ok",
         "testid": "card-cnpj-usage"},
    ]
