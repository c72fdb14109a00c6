"""Identity context: tenants, users, sessions and tokens, API keys, roles and permissions.

The names in `__all__` are identity's public surface: other contexts import these and nothing
else from identity (import-linter checks it), and never read identity's tables themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retaguarda.identity.application import EMAIL_SCOPE, Identity, Session, Tokens
from retaguarda.identity.domain import ApiKey, RefreshFamily, Tenant, User
from retaguarda.identity.permissions import permissions_of

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection


def active_users(conn: Connection, tenant_id: str, *,
                 roles: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """Active users of a tenant (only `roles` when given), ordered by name, as
    `{"id", "name", "email", "role"}` dicts read from identity's user directory."""
    from projections.identity.user_directory import active_users as query

    return query(conn, tenant_id, roles=roles)


def user_display_names(conn: Connection, tenant_id: str) -> dict[str, str]:
    """user id → display name (the e-mail when no name) for every user of the tenant."""
    from projections.identity.user_directory import display_names

    return display_names(conn, tenant_id)


__all__ = [
    "EMAIL_SCOPE", "ApiKey", "Identity", "RefreshFamily", "Session", "Tenant", "Tokens", "User",
    "active_users", "permissions_of", "user_display_names",
]
