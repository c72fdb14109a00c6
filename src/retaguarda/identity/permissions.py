"""Roles are named sets of permissions; one policy function decides every access."""

from __future__ import annotations

from collections.abc import Iterable

PERMISSIONS: dict[str, str] = {
    "customers:read": "See customers",
    "customers:write": "Create and edit customers",
    "audit:read": "Read event history, time travel, verify the seal",
    "users:admin": "Invite users, change roles, deactivate",
    "apikeys:admin": "Create and revoke API keys",
    "ops:admin": "Outbox, scheduled jobs, dead letters, replays",
    "support:read": "See tickets",
    "support:write": "Work on tickets",
    "support:admin": "SLA policies, business calendar, ticket categories",
    "support:own": "Open and follow one's own tickets (customer portal)",
    "billing:read": "See invoices",
    "billing:write": "Create invoices and register payments",
    "billing:admin": "Run billing",
    "fiscal:read": "See NFS-e",
    "fiscal:write": "Draft and emit NFS-e",
    "fiscal:cancel": "Cancel NFS-e",
    "fiscal:settings": "Fiscal settings and certificate",
    "campaigns:dispatch": "Dispatch campaigns (machine clients)",
    "campaigns:read": "See campaigns",
    "campaigns:write": "Cancel campaigns, manage opt-outs, retry or discard dead letters",
    "campaigns:admin": "Campaign provider settings and credentials",
    "cnpj:read": "See CNPJ checks",
    "cnpj:write": "Run CNPJ checks",
    "cnpj:personal_data": "See partners' CPFs and personal contact data unmasked",
    "cnpj:admin": "CNPJ plans, provider order, retention",
    "field:read": "See service orders and agendas",
    "field:write": "Open, schedule and cancel service orders",
    "field:work": "Work one's own visits (start, complete, photos)",
    "field:admin": "Service-order checklists",
    "portal:self": "Customer self-service",
    "profile:self": "Own profile",
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
