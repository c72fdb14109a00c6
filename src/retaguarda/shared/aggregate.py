"""Base aggregate: every event carries tenant, actor, correlation id and the caller's time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate as _Aggregate

from retaguarda.shared.clock import to_utc
from retaguarda.shared.meta import Meta


def _utc_instants(data: dict[str, Any]) -> dict[str, Any]:
    """Every datetime in an event's payload becomes aware UTC; a naive one is refused (ValueError),
    since a wall-clock time read as UTC is how a São Paulo 11:03 became 08:03."""
    return {k: to_utc(v) if isinstance(v, datetime) else v for k, v in data.items()}


class Aggregate(_Aggregate):
    """Base of every Retaguarda aggregate.

    Subclasses declare nested past-tense events deriving from `Aggregate.Event` (or
    `Aggregate.Created` for the first one) and record them with `_record`, never reading
    the clock: `Meta.at` is the event's timestamp.
    """

    class Event(_Aggregate.Event):
        tenant_id: str
        actor: str
        correlation_id: str

    class Created(Event, _Aggregate.Created):
        """Sets every payload field on the new aggregate; subclasses add defaults after super()."""

        def apply(self, aggregate: Any) -> None:
            aggregate.tenant_id = self.tenant_id
            for key, value in event_data(self).items():
                setattr(aggregate, key, value)

    @classmethod
    def _open(cls, event_class: type[Any], meta: Meta, *, id: UUID, **data: Any) -> Any:
        return cls._create(
            event_class,
            id=id,
            timestamp=meta.at,
            tenant_id=meta.tenant_id,
            actor=meta.actor,
            correlation_id=meta.correlation_id,
            **_utc_instants(data),
        )

    def _record(self, event_class: type[Any], meta: Meta, **data: Any) -> None:
        if meta.tenant_id != self.tenant_id:
            raise ValueError("an aggregate only records events of its own tenant")
        self.trigger_event(
            event_class,
            timestamp=meta.at,
            tenant_id=meta.tenant_id,
            actor=meta.actor,
            correlation_id=meta.correlation_id,
            **_utc_instants(data),
        )

    def as_state(self) -> dict[str, Any]:
        """The aggregate's state as plain values (for audit time travel and tests)."""
        state = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        state.update(id=self.id, version=self.version, created_on=self.created_on,
                     modified_on=self.modified_on, type=type(self).__name__)
        return state


BASE_EVENT_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "tenant_id", "actor",
     "correlation_id"}
)


def event_data(event: Any) -> dict[str, Any]:
    """The payload of an event, without the envelope fields."""
    return {k: v for k, v in vars(event).items() if k not in BASE_EVENT_FIELDS}
