"""The event-sourced outbox: follows the log like a projection and sends Dramatiq messages.

Contexts declare triggers in their `Context.triggers` (`Trigger(Email.Requested,
"notifications.send_email", lambda e: (str(e.originator_id), e.originator_version))`); the
container's registry maps each event topic to its triggers. For each batch the dispatcher
locks its tracking row (compare-and-set on the position), sends the messages, then advances
the position in the same transaction. A crash between send and commit sends the batch again:
delivery is at-least-once and actors are idempotent. A failing send stops the dispatcher
(logged, kept for /health/ready); it never skips an event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from eventsourcing.utils import get_topic

from projections.base import tracking, utcnow
from projections.runner import ensure_tracking

log = structlog.get_logger("retaguarda.dispatcher")

NAME = "dispatcher"


@dataclass(frozen=True)
class Trigger:
    """Each stored `event_class` event sends one message to `actor_name` with these args."""

    event_class: type
    actor_name: str
    args_from_event: Callable[[Any], Sequence[Any]]

    @property
    def topic(self) -> str:
        return get_topic(self.event_class)


class DispatcherStoppedError(Exception):
    """A send failed; the dispatcher stops rather than skip the event."""


class Dispatcher:
    def __init__(self, store: Any, engine: Any, broker: Any, triggers: Mapping[str, Sequence[Trigger]],
                 batch_size: int = 500) -> None:
        self.store = store
        self.triggers = triggers
        self.engine = engine
        self.broker = broker
        self.batch_size = batch_size
        self.error: BaseException | None = None
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def position(self) -> int:
        with self.engine.connect() as conn:
            pos = conn.execute(sa.select(tracking.c.position).where(tracking.c.name == NAME)).scalar()
        return int(pos or 0)

    def status(self) -> dict[str, Any]:
        """Position, head and lag, reported like the projections' (health, metrics)."""
        position, head = self.position(), self.store.head()
        return {"name": NAME, "position": position, "head": head, "lag": max(0, head - position),
                "running": bool(self._thread and self._thread.is_alive()),
                "error": repr(self.error) if self.error else None}

    def reset(self, position: int = 0) -> None:
        """Moves the position back (re-sends everything after it; actors must be idempotent)."""
        ensure_tracking(self.engine, [NAME])
        with self.engine.begin() as conn:
            conn.execute(sa.update(tracking).where(tracking.c.name == NAME)
                         .values(position=position, updated_at=utcnow()))

    def run_once(self) -> int:
        """Sends the messages of at most one batch; returns how many events it moved past."""
        ensure_tracking(self.engine, [NAME])
        expected = self.position()
        notifications = self.store.read(expected + 1, self.batch_size)
        if not notifications:
            return 0
        with self.engine.begin() as conn:
            claimed = conn.execute(
                sa.update(tracking).where(tracking.c.name == NAME, tracking.c.position == expected)
                .values(updated_at=utcnow())
            ).rowcount == 1
            if not claimed:
                return len(notifications)  # another dispatcher moved on; re-read next round
            sent = 0
            for n in notifications:
                triggers = self.triggers.get(n.topic)
                if not triggers:
                    continue
                event = self.store.decode(n)
                for trigger in triggers:
                    args = tuple(trigger.args_from_event(event))
                    self.broker.get_actor(trigger.actor_name).send_with_options(args=args)
                    sent += 1
            conn.execute(sa.update(tracking).where(tracking.c.name == NAME).values(
                position=notifications[-1].id, updated_at=utcnow(),
                events_processed=tracking.c.events_processed + sent))
        self.sent += sent
        return len(notifications)

    def catch_up(self) -> None:
        while self.run_once():
            pass

    def run_forever(self, idle_sleep: float = 0.05) -> None:
        ensure_tracking(self.engine, [NAME])
        while not self._stop.is_set():
            try:
                moved = self.run_once()
            except Exception as exc:
                self.error = exc
                log.error("dispatcher_stopped", error=repr(exc))
                raise DispatcherStoppedError(repr(exc)) from exc
            if not moved:
                self._stop.wait(idle_sleep)

    def start_thread(self) -> threading.Thread:
        if self._thread and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._main, name="dispatcher", daemon=True)
        self._thread.start()
        return self._thread

    def _main(self) -> None:
        try:
            self.run_forever()
        except DispatcherStoppedError:
            pass  # logged; kept in self.error for /health/ready

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
