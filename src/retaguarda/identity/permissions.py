"""Roles are named sets of permissions; one policy function decides every access."""

from __future__ import annotations

from collections.abc import Iterable

from retaguarda.i18n import N_

# Descriptions are msgids (shown translated on the API keys page).
PERMISSIONS: dict[str, str] = {
    "customers:read": N_("See customers"),
    "customers:write": N_("Create and edit customers"),
    "audit:read": N_("Read event history, time travel, verify the seal"),
    "users:admin": N_("Invite users, change roles, deactivate"),
    "apikeys:admin": N_("Create and revoke API keys"),
    "ops:admin": N_("Outbox, scheduled jobs, dead letters, replays"),
    "support:read": N_("See tickets"),
    "support:write": N_("Work on tickets"),
    "support:admin": N_("SLA policies, business calendar, ticket categories"),
    "support:own": N_("Open and follow one's own tickets (customer portal)"),
    "billing:read": N_("See invoices"),
    "billing:write": N_("Create invoices and register payments"),
    "billing:admin": N_("Run billing"),
    "fiscal:read": N_("See NFS-e"),
    "fiscal:write": N_("Draft and emit NFS-e"),
    "fiscal:cancel": N_("Cancel NFS-e"),
    "fiscal:settings": N_("Fiscal settings and certificate"),
    "campaigns:dispatch": N_("Dispatch campaigns (machine clients)"),
    "campaigns:read": N_("See campaigns"),
    "campaigns:write": N_("Cancel campaigns, manage opt-outs, retry or discard dead letters"),
    "campaigns:admin": N_("Campaign provider settings and credentials"),
    "cnpj:read": N_("See CNPJ checks"),
    "cnpj:write": N_("Run CNPJ checks"),
    "cnpj:personal_data": N_("See partners' CPFs and personal contact data unmasked"),
    "cnpj:admin": N_("CNPJ plans, provider order, retention"),
    "field:read": N_("See service orders and agendas"),
    "field:write": N_("Open, schedule and cancel service orders"),
    "field:work": N_("Work one's own visits (start, complete, photos)"),
    "field:admin": N_("Service-order checklists"),
    "portal:self": N_("Customer self-service"),
    "network:write": N_("Push RADIUS accounting sessions (machine clients)"),
    "profile:self": N_("Own profile"),
}

_ALL = frozenset(PERMISSIONS)

ROLES: dict[str, frozenset[str]] = {
    "admin": _ALL - {"portal:self", "campaigns:dispatch", "support:own"},
    "manager": frozenset({
        "customers:read", "customers:write", "support:read", "support:write", "billing:read",
        "billing:write", "fiscal:read", "fiscal:write", "fiscal:cancel", "campaigns:read",
        "cnpj:read", "cnpj:write", "field:read", "field:write", "field:work", "profile:self",
    }),
    "technician": frozenset({"customers:read", "support:read", "support:write", "field:read", "field:work",
                             "profile:self"}),
    "finance": frozenset({
        "customers:read", "billing:read", "billing:write", "billing:admin", "fiscal:read",
        "fiscal:write", "cnpj:read", "profile:self",
    }),
    "customer": frozenset({"portal:self", "profile:self", "support:own"}),
    "auditor": frozenset({
        "audit:read", "customers:read", "support:read", "billing:read", "fiscal:read",
        "campaigns:read", "cnpj:read", "field:read", "profile:self",
    }),
}


def permissions_of(role: str) -> frozenset[str]:
    return ROLES.get(role, frozenset())


def is_allowed(granted: Iterable[str], required: str | None) -> bool:
    """The single access rule: the required permission must be among the granted ones."""
    return required is None or required in set(granted)


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    unknown = [s for s in scopes if s not in PERMISSIONS]
    if unknown:
        from retaguarda.shared.errors import ValidationError

        raise ValidationError("scopes", f"unknown permission(s): {', '.join(unknown)}")
    return sorted(set(scopes))
