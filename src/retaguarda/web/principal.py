"""Who is calling: resolved once per request by the auth middleware."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """A user (via JWT or session cookie) or a machine client (via API key)."""

    kind: str  # "user" | "apikey"
    id: str  # user id or api key id
    tenant_id: str
    role: str
    permissions: frozenset[str]
    email: str = ""
    name: str = ""
    customer_id: str | None = None
    via: str = ""  # "jwt" | "session" | "apikey"
    session_id: str | None = None
    locale: str = ""  # the user's chosen locale (pt_BR / en); "" for API keys
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.id if self.kind == "user" else f"apikey:{self.id}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions
