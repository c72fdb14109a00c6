"""Gap-free numbering in an event store: one Sequence aggregate per (tenant, name).

`Sequence.next(meta)` records `Advanced` and returns the new value; the caller saves the
sequence together with the aggregate that got the number (one atomic save). Two writers that
take a number at once conflict on the sequence's version: one save wins, the other raises
IntegrityError and `Service.retrying` runs its command again with the next number. A number is
therefore used exactly once and none is skipped (a failed save records nothing).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.meta import Meta

_NAMESPACE = uuid.UUID("0b8f3c52-7f1e-4d0a-9c55-5f0d3c9e2a71")


def sequence_id(tenant_id: str, name: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant_id}\x1f{name}")


class Sequence(Aggregate):
    """A tenant's counter named e.g. `support:ticket`, `billing:invoice`, `fiscal:dps:900`."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        name: str
        value: int

    class Started(Aggregate.Created):
        name: str
        value: int

    class Advanced(Aggregate.Event):
        value: int

        def apply(self, seq: "Sequence") -> None:
            seq.value = self.value

    @classmethod
    def start(cls, name: str, meta: Meta, value: int = 0) -> "Sequence":
        """A new sequence whose next number is `value + 1`."""
        return cls._open(cls.Started, meta, id=sequence_id(meta.tenant_id, name), name=name, value=value)

    def next(self, meta: Meta) -> int:
        self._record(self.Advanced, meta, value=self.value + 1)
        return self.value

    def take(self, count: int, meta: Meta) -> range:
        """`count` consecutive numbers in one event (batch generation)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        first = self.value + 1
        self._record(self.Advanced, meta, value=self.value + count)
        return range(first, self.value + 1)


def next_number(service: object, name: str, meta: Meta, start_at: int = 1) -> tuple[int, Sequence]:
    """Loads (or starts) the tenant's sequence and takes the next number.

    Returns (number, sequence); save the sequence in the same `service.save(...)` call as the
    aggregate that carries the number, inside `service.retrying(...)`.
    """
    seq = service.find(Sequence, sequence_id(meta.tenant_id, name))  # type: ignore[attr-defined]
    if seq is None:
        seq = Sequence.start(name, meta, value=start_at - 1)
    return seq.next(meta), seq
