"""Uniqueness in an event store: a Claim aggregate whose id is derived from the unique key.

Saving two aggregates that claim the same key conflicts on the claim's version, so a duplicate
document or e-mail is refused atomically with the write that wanted it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.meta import Meta

_NAMESPACE = uuid.UUID("6d1c8e6a-2f4b-4f4e-9a59-2c0f9b7a1e11")


def claim_id(scope: str, key: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"{scope}\x1f{key}")


class Claim(Aggregate):
    """Holds a unique key for one owner (`owner_id`, None once released)."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        scope: str
        key: str
        owner_id: str | None

    class Taken(Aggregate.Created):
        scope: str
        key: str
        owner_id: str

    class Retaken(Aggregate.Event):
        owner_id: str

        def apply(self, claim: "Claim") -> None:
            claim.owner_id = self.owner_id

    class Released(Aggregate.Event):
        def apply(self, claim: "Claim") -> None:
            claim.owner_id = None

    @classmethod
    def take(cls, scope: str, key: str, owner_id: str, meta: Meta) -> "Claim":
        return cls._open(cls.Taken, meta, id=claim_id(scope, key), scope=scope, key=key,
                         owner_id=owner_id)

    def retake(self, owner_id: str, meta: Meta) -> None:
        self._record(self.Retaken, meta, owner_id=owner_id)

    def release(self, meta: Meta) -> None:
        self._record(self.Released, meta)
