"""Follows the event log and keeps every read model current; also rebuilds them (replay).

Each batch of each projection writes its rows and its tracking position in ONE transaction,
guarded by a compare-and-set on the position, so a crash or a second runner can neither lose
nor double an update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from projections.base import Envelope, Projection, Writer, metadata, tracking, utcnow

log = structlog.get_logger("retaguarda.projections")


class ProjectionStoppedError(Exception):
    """A projection failed on an event; the runner stops rather than skip it."""


def decode_batch(store: Any, notifications: Sequence[Any]) -> list[Envelope]:
    return [Envelope(n.id, store.decode(n), n) for n in notifications]


def topic_filter(projection: Projection) -> Callable[[str], bool] | None:
    """A cheap test on the stored topic telling whether the projection handles the event.

    None when the projection decides per decoded event (it overrides `wants`, `handler_for`
    or `process`, like the audit projections): then every event must be decoded for it.
    Events no projection wants are never decrypted or decoded.
    """
    cls = type(projection)
    if (cls.wants is not Projection.wants or cls.handler_for is not Projection.handler_for
            or cls.process is not Projection.process):
        return None
    from eventsourcing.utils import resolve_topic

    handled = frozenset(projection._handlers)
    cache: dict[str, bool] = {}

    def wanted(topic: str) -> bool:
        hit = cache.get(topic)
        if hit is None:
            try:
                hit = resolve_topic(topic) in handled
            except Exception:  # unknown topic: let decoding report it
                hit = True
            cache[topic] = hit
        return hit

    return wanted


def decode_wanted(store: Any, notifications: Sequence[Any],
                  wanted: Callable[[str], bool] | None) -> list[Envelope]:
    if wanted is None:
        return decode_batch(store, notifications)
    return [Envelope(n.id, store.decode(n), n) for n in notifications if wanted(n.topic)]


def ensure_tracking(engine: Engine, names: Sequence[str]) -> None:
    with engine.begin() as conn:
        existing = {r[0] for r in conn.execute(sa.select(tracking.c.name))}
        for name in names:
            if name not in existing:
                conn.execute(sa.insert(tracking).values(name=name, position=0, events_processed=0,
                                                        updated_at=utcnow()))


def positions(engine: Engine, names: Sequence[str] | None = None) -> dict[str, int]:
    with engine.connect() as conn:
        stmt = sa.select(tracking.c.name, tracking.c.position)
        if names is not None:
            stmt = stmt.where(tracking.c.name.in_(list(names)))
        return {name: int(pos) for name, pos in conn.execute(stmt)}


def _claim_batch(conn: Connection, name: str, expected: int) -> bool:
    """Locks the tracking row (row lock on PostgreSQL, write lock on SQLite) if unchanged."""
    result = conn.execute(
        sa.update(tracking)
        .where(tracking.c.name == name, tracking.c.position == expected)
        .values(updated_at=utcnow())
    )
    return result.rowcount == 1


def _advance(conn: Connection, name: str, position: int, processed: int) -> None:
    conn.execute(
        sa.update(tracking).where(tracking.c.name == name).values(
            position=position, updated_at=utcnow(),
            events_processed=tracking.c.events_processed + processed,
        )
    )


@dataclass
class _Crash:
    """Test hook: raise after handling `after` events of a batch (simulates kill mid-batch)."""

    after: int | None = None


class ProjectionRunner:
    def __init__(self, store: Any, engine: Engine, projections: Sequence[Projection],
                 batch_size: int = 500) -> None:
        self.store = store
        self.engine = engine
        self.projections = list(projections)
        self.batch_size = batch_size
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.crash_hook = _Crash()
        self.error: BaseException | None = None
        self._filters: dict[str, Callable[[str], bool] | None] = {}

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.projections]

    def start(self) -> None:
        ensure_tracking(self.engine, self.names)

    def run_once(self) -> int:
        """Processes at most one batch for every projection; returns events handed out."""
        current = positions(self.engine, self.names)
        if len(current) < len(self.projections):
            ensure_tracking(self.engine, self.names)
            current = positions(self.engine, self.names)
        start = min(current.values(), default=0) + 1
        notifications = self.store.read(start, self.batch_size)
        if not notifications:
            return 0
        decoded: dict[int, Envelope] = {}

        def envelopes_for(projection: Projection, after: int) -> list[Envelope]:
            wanted = self._filters.setdefault(projection.name, topic_filter(projection))
            todo = []
            for n in notifications:
                if n.id <= after or (wanted is not None and not wanted(n.topic)):
                    continue
                env = decoded.get(n.id)
                if env is None:
                    env = decoded[n.id] = Envelope(n.id, self.store.decode(n), n)
                todo.append(env)
            return todo

        last = notifications[-1].id
        moved = 0
        for projection in self.projections:
            pos = current[projection.name]
            if pos >= last:
                continue
            todo = envelopes_for(projection, pos)
            with self.engine.begin() as conn:
                if not _claim_batch(conn, projection.name, pos):
                    continue  # another runner advanced it; re-read next round
                writer = Writer(conn, {})
                if self.crash_hook.after is not None:
                    projection.process(todo[: self.crash_hook.after], writer)
                    raise ProjectionStoppedError("simulated crash in the middle of a batch")
                handled = projection.process(todo, writer)
                _advance(conn, projection.name, last, handled)
            moved += sum(1 for n in notifications if n.id > pos)
        return moved

    def catch_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.run_once():
            if time.monotonic() > deadline:
                raise TimeoutError("projections did not catch up in time")

    def run_forever(self, idle_sleep: float = 0.05) -> None:
        self.start()
        while not self._stop.is_set():
            try:
                moved = self.run_once()
            except Exception as exc:  # a failing projection stops and alerts, never skips
                self.error = exc
                log.error("projection_failed", error=repr(exc))
                raise
            if not moved:
                self.wake.wait(idle_sleep)
                self.wake.clear()

    def start_thread(self) -> threading.Thread:
        self.start()
        self._thread = threading.Thread(target=self._thread_main, name="projector", daemon=True)
        self._thread.start()
        return self._thread

    def _thread_main(self) -> None:
        try:
            self.run_forever()
        except Exception:  # already logged; keep the error for /health/ready
            pass

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=10)


def wait_for(engine: Engine, names: Sequence[str], position: int, timeout: float) -> bool:
    """Read-your-writes: waits until every named read model reached `position`."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        with engine.connect() as conn:
            lowest = conn.execute(
                sa.select(sa.func.min(tracking.c.position)).where(tracking.c.name.in_(list(names)))
            ).scalar()
        if lowest is not None and lowest >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


# Replay ---------------------------------------------------------------------------------

@dataclass
class ReplayReport:
    name: str
    events: int
    handled: int
    seconds: float
    rows: dict[str, int]


def _aside_tables(projection: Projection, suffix: str) -> dict[str, sa.Table]:
    aside_md = sa.MetaData()
    aside: dict[str, sa.Table] = {}
    for live in projection.tables:
        copy = live.to_metadata(aside_md, name=f"{live.name}{suffix}")
        for constraint in copy.constraints:
            constraint.name = None  # let the database name them after the aside table
        for i, index in enumerate(sorted(copy.indexes, key=lambda ix: str(ix.name))):
            index.name = f"ix_{copy.name}_{i}"
        aside[live.name] = copy
    return aside


def rebuild(store: Any, engine: Engine, projection: Projection, batch_size: int = 2000,
            progress: Callable[[int, int, float], None] | None = None) -> ReplayReport:
    """Replays the whole log into fresh tables, then swaps them in atomically.

    Readers keep seeing the old tables until the swap commits; the live runner's tracking row
    is locked during the swap so no event is applied twice or skipped.
    """
    own_replay = getattr(projection, "replay", None)
    if own_replay is not None:  # append-only read models (the audit seal) check, never rebuild
        return own_replay(store, engine, progress)  # type: ignore[no-any-return]
    started = time.monotonic()
    suffix = f"__r{int(time.time() * 1000)}"
    aside = _aside_tables(projection, suffix)
    # Non-unique indexes are built once the bulk of the log is in (bulk load, then index);
    # unique ones stay from the start so constraint errors surface exactly as in live processing.
    deferred = [ix for table in aside.values() for ix in list(table.indexes) if not ix.unique]
    with engine.begin() as conn:
        for table in aside.values():
            table.indexes.difference_update(deferred)
            table.create(conn)
    head = store.head()
    pos = 0
    seen = handled = 0
    wanted = topic_filter(projection)

    def one_batch(conn: Connection) -> int:
        nonlocal pos, seen, handled
        notifications = store.read(pos + 1, batch_size)
        if not notifications:
            return 0
        envelopes = decode_wanted(store, notifications, wanted)
        handled += projection.process(envelopes, Writer(conn, aside))
        pos = notifications[-1].id
        seen += len(notifications)
        return len(notifications)

    try:
        while True:
            with engine.begin() as conn:
                n = one_batch(conn)
            if progress:
                progress(seen, head, time.monotonic() - started)
            if not n or pos >= store.head():
                break
        with engine.begin() as conn:
            for ix in deferred:
                ix.create(conn)
                ix.table.indexes.add(ix)
        ensure_tracking(engine, [projection.name])
        with engine.begin() as conn:
            # Lock the live tracking row so the live runner waits for the swap.
            conn.execute(sa.update(tracking).where(tracking.c.name == projection.name)
                         .values(updated_at=utcnow()))
            while one_batch(conn):
                pass
            for live in projection.tables:
                old = f"{live.name}__old{suffix}"
                conn.execute(sa.text(f'ALTER TABLE "{live.name}" RENAME TO "{old}"'))
                conn.execute(sa.text(f'ALTER TABLE "{aside[live.name].name}" RENAME TO "{live.name}"'))
                conn.execute(sa.text(f'DROP TABLE "{old}"'))
                projection.after_swap(conn, live)
            conn.execute(sa.update(tracking).where(tracking.c.name == projection.name).values(
                position=pos, events_processed=handled, updated_at=utcnow()))
    except BaseException:
        with engine.begin() as conn:
            for table in aside.values():
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}"'))
        raise
    rows: dict[str, int] = {}
    with engine.connect() as conn:
        for live in projection.tables:
            rows[live.name] = conn.execute(sa.select(sa.func.count()).select_from(live)).scalar() or 0
    return ReplayReport(projection.name, seen, handled, time.monotonic() - started, rows)


__all__ = ["ProjectionRunner", "ensure_tracking", "metadata", "positions", "rebuild", "wait_for"]
