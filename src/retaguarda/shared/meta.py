"""Who, for whom, why and when: the metadata every event carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class Meta:
    """Passed explicitly to every command; aggregates copy it onto each event they record.

    `actor` is a user id, `apikey:<id>` or `system:<job>`; `at` is timezone-aware and comes
    from the caller's clock (aggregates never read the clock).
    """

    tenant_id: str
    actor: str
    correlation_id: str
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Meta.at must be timezone-aware")

    def with_tenant(self, tenant_id: str) -> "Meta":
        return replace(self, tenant_id=tenant_id)

    def later(self, at: datetime) -> "Meta":
        return replace(self, at=at)


def new_correlation_id() -> str:
    return uuid.uuid4().hex
