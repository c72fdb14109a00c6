"""Who is told what: contexts turn their events into `Route`s; this module delivers them.

A context writes a pure router `(event, aggregate) -> list[Route]` for the events it wants
announced (support: tickets; field: service orders). The routing actor loads the aggregate at
the event's version, asks the router, resolves each route's audience to users (managers of the
tenant, the users of a customer, one user), drops what a user muted, and saves one `Notice`
per user (ids derived from the event, so a retried run posts nothing twice) together with the
e-mails, in one atomic save.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Audience = Literal["user", "role", "customer"]


@dataclass(frozen=True)
class Route:
    kind: str
    audience: Audience
    target: str
    """A user id, a role name, or a customer id (its portal users and its e-mail)."""
    title: str
    body: str = ""
    link: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    """Values interpolated into title/body (`%(number)s`) once translated for the recipient."""


@dataclass(frozen=True)
class Recipient:
    user_id: str | None
    email: str | None
    locale: str = "pt_BR"
