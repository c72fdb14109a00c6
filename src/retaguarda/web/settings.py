"""“Configurações”: one page gathering every settings page the user may open."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from retaguarda.i18n import N_
from retaguarda.web.context import require_principal
from retaguarda.web.html import Template

# (permission, path, title msgid, description msgid) — a context adds its settings page here.
SETTINGS_PAGES: list[tuple[str, str, str, str]] = [
    ("", "/profile", N_("Your profile"), N_("Name, language and password.")),
    ("billing:admin", "/billing/settings",
     N_("Billing settings"), N_("Fine, interest, PIX key, boleto agreement, reminders and blocking.")),
    ("fiscal:settings", "/fiscal/settings",
     N_("Fiscal settings"), N_("NFS-e issuer, backend, A1 certificate and default service.")),
    ("support:admin", "/support/settings", N_("Support settings"),
     N_("SLA policies, calendar and categories.")),
    ("campaigns:admin", "/campaigns/settings", N_("Campaign settings"),
     N_("Providers, webhook and rate limits.")),
    ("cnpj:admin", "/cnpj/settings", N_("CNPJ settings"), N_("Plan, quota, providers and alerts.")),
    ("users:admin", "/admin/users", N_("Users"), N_("Invite people, change roles, deactivate.")),
    ("apikeys:admin", "/admin/api-keys", N_("API keys"), N_("Keys for machine clients.")),
]


def register_settings_page(permission: str, path: str, title: str, description: str) -> None:
    """Adds a context's settings page to the hub (title/description are msgids: wrap them in N_)."""
    if all(p != path for _, p, _t, _d in SETTINGS_PAGES):
        SETTINGS_PAGES.append((permission, path, title, description))


@get("/settings", sync_to_thread=False, include_in_schema=False)
def settings_hub(request: Request[Any, Any, Any]) -> Template:
    principal = require_principal(request)
    items = [{"path": path, "title": title, "description": description}
             for permission, path, title, description in SETTINGS_PAGES
             if principal.kind == "user" and (not permission or principal.can(permission))]
    return Template("settings.html", context={"items": items})


pages = [settings_hub]
