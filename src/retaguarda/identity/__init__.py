"""Identity context: tenants, users, sessions and tokens, API keys, roles and permissions."""

from retaguarda.identity.application import EMAIL_SCOPE, Identity, Session, Tokens
from retaguarda.identity.domain import ApiKey, RefreshFamily, Tenant, User

__all__ = ["EMAIL_SCOPE", "ApiKey", "Identity", "RefreshFamily", "Session", "Tenant", "Tokens", "User"]
