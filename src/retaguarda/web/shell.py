"""The layout's home: dashboard with counts the user may see."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from projections.customers.customer_list import count_by_status
from retaguarda.readdb import tenant_reader
from retaguarda.web.context import container_of, require_principal
from retaguarda.web.html import Template


@get("/", sync_to_thread=True, include_in_schema=False)
def dashboard(request: Request[Any, Any, Any]) -> Template:
    principal = require_principal(request)
    from retaguarda.contexts import CONTEXTS

    cards: dict[str, Any] = {}
    sections: list[dict[str, Any]] = []
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        if principal.can("customers:read"):
            cards["customers"] = count_by_status(conn, principal.tenant_id)
        for ctx in CONTEXTS:
            found = ctx.dashboard(conn, principal) if ctx.dashboard is not None else None
            if found:
                sections.append({"context": ctx.name, "cards": found})
    return Template("dashboard.html", context={"cards": cards, "sections": sections})


pages = [dashboard]
