"""The one event store: a single `eventsourcing` application whose log every context shares."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, Notification, Recording, Transcoding

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.values import TRANSCODED_ENUMS


class _DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _enum_transcoding(enum_class: type[Any]) -> Transcoding:
    class EnumAsValue(Transcoding):
        type = enum_class
        name = f"enum:{enum_class.__module__}.{enum_class.__qualname__}"

        def encode(self, obj: Any) -> Any:
            return obj.value

        def decode(self, data: Any) -> Any:
            return enum_class(data)

    return EnumAsValue()


class EventStore(Application[UUID]):
    """Aggregates of every context are saved here, so there is one gap-free global order."""

    name = "Retaguarda"
    is_snapshotting_enabled = False

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(_DateAsISO())
        for enum_class in TRANSCODED_ENUMS:
            transcoder.register(_enum_transcoding(enum_class))

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """As `Application.save`, without its per-object runtime Protocol checks for aggregates.

        `isinstance(obj, SomeProtocol)` on a runtime-checkable Protocol walks the protocol's
        members on every call (~40 µs each); our aggregates are `BaseAggregate`s, whose pending
        events are collected directly. Anything else (a bare event) takes the library's path.
        """
        if not all(isinstance(obj, BaseAggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        events = processing_event.events
        for obj in objs:
            events.extend(obj.collect_events())
            processing_event.aggregates[obj.id] = obj
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated hook, kept for parity
        return recordings

    def get(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        return self.repository.get(aggregate_id, version=version, projector_func=_project)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(self, start: int, limit: int) -> list[Notification]:
        """Stored notifications from position `start` on (inclusive), in log order."""
        return list(self.recorder.select_notifications(start, limit))

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)

    def history(self, aggregate_id: UUID) -> list[Any]:
        return list(self.events.get(aggregate_id))


def _project(aggregate: Any, events: Any) -> Any:
    """`eventsourcing.application.project_aggregate` without its runtime Protocol assert."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


__all__ = ["EventStore", "IntegrityError"]
