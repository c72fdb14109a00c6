"""One scheduler for periodic jobs: it only *sends* Dramatiq messages; workers run them.

Each job has a name, a schedule (every N seconds, or daily at HH:MM in America/Sao_Paulo) and
an actor. Run bookkeeping lives in `scheduled_jobs` (not tenant-scoped). Several schedulers may
run at once: a job run is claimed with a compare-and-set on `runs`, and the message is sent
inside the claiming transaction, so each period sends exactly one message (or none, if the send
failed — the next tick tries again).
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
import structlog

from projections.base import metadata
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import NotFoundError
from retaguarda.shared.clock import as_utc

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.scheduler")

scheduled_jobs = sa.Table(
    "scheduled_jobs",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("schedule", sa.String(80), nullable=False),
    sa.Column("actor_name", sa.String(120), nullable=False),
    sa.Column("description", sa.String(300), nullable=False, server_default=""),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_run_at", sa.DateTime(timezone=True)),
    sa.Column("next_run_at", sa.DateTime(timezone=True)),
    sa.Column("last_result", sa.String(500), nullable=False, server_default=""),
    sa.Column("last_finished_at", sa.DateTime(timezone=True)),
)


class Schedule(Protocol):
    def next_after(self, now: datetime) -> datetime: ...


@dataclass(frozen=True)
class Every:
    seconds: int

    def next_after(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return f"every {self.seconds}s"


@dataclass(frozen=True)
class Daily:
    """Daily at HH:MM, São Paulo time (fiscal and business day boundaries are local)."""

    at: str

    def next_after(self, now: datetime) -> datetime:
        hour, minute = (int(x) for x in self.at.split(":"))
        local = now.astimezone(SAO_PAULO)
        candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= local:
            candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0,
                                                            microsecond=0)
        return candidate.astimezone(timezone.utc)

    def __str__(self) -> str:
        return f"daily {self.at} America/Sao_Paulo"


@dataclass(frozen=True)
class PeriodicJob:
    """A job sent on a schedule; declared in a `Context.periodic`."""

    name: str
    schedule: Schedule
    actor_name: str
    description: str = ""


def record_result(container: Container, name: str, result: str) -> None:
    """Called by the job's actor when it finishes (see jobs._wrap)."""
    with container.engine.begin() as conn:
        conn.execute(sa.update(scheduled_jobs).where(scheduled_jobs.c.name == name).values(
            last_result=result[:500], last_finished_at=container.clock.now()))


class Scheduler:
    def __init__(self, container: Container, jobs: Mapping[str, PeriodicJob] | None = None) -> None:
        self.container = container
        self.jobs = container.registry.periodic if jobs is None else jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def engine(self) -> Any:
        return self.container.engine

    def sync(self) -> None:
        """Creates a row for each registered job; keeps schedule/actor text current."""
        now = self.container.clock.now()
        with self.engine.begin() as conn:
            existing = {r.name: r for r in conn.execute(sa.select(scheduled_jobs))}
            for job in self.jobs.values():
                row = existing.get(job.name)
                values = dict(schedule=str(job.schedule), actor_name=job.actor_name,
                              description=job.description)
                if row is None:
                    conn.execute(sa.insert(scheduled_jobs).values(
                        name=job.name, runs=0, next_run_at=job.schedule.next_after(now), **values))
                elif row.schedule != values["schedule"] or row.actor_name != job.actor_name:
                    conn.execute(sa.update(scheduled_jobs).where(scheduled_jobs.c.name == job.name)
                                 .values(next_run_at=job.schedule.next_after(now), **values))

    def tick(self, now: datetime | None = None) -> list[str]:
        """Sends every job that is due; returns the names sent."""
        now = now or self.container.clock.now()
        sent = []
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(scheduled_jobs)))
        for row in rows:
            job = self.jobs.get(row.name)
            due = as_utc(row.next_run_at)
            if job is None or due is None or due > now:
                continue
            with self.engine.begin() as conn:
                claimed = conn.execute(
                    sa.update(scheduled_jobs)
                    .where(scheduled_jobs.c.name == row.name, scheduled_jobs.c.runs == row.runs)
                    .values(runs=row.runs + 1, last_run_at=now, next_run_at=job.schedule.next_after(now))
                ).rowcount == 1
                if claimed:
                    self._send(job)
                    sent.append(job.name)
        return sent

    def run_now(self, name: str) -> None:
        """The admin's "run now": sends the job's message without moving its schedule."""
        job = self.jobs.get(name)
        if job is None:
            raise NotFoundError("Job", name)
        self.sync()
        with self.engine.begin() as conn:
            conn.execute(sa.update(scheduled_jobs).where(scheduled_jobs.c.name == name).values(
                runs=scheduled_jobs.c.runs + 1, last_run_at=self.container.clock.now()))
            self._send(job)

    def _send(self, job: PeriodicJob) -> None:
        actor = self.container.broker.get_actor(job.actor_name)
        actor.send_with_options(scheduled_job=job.name)
        log.info("scheduled_job_sent", job=job.name, actor=job.actor_name)

    def list_jobs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = {r.name: r for r in conn.execute(sa.select(scheduled_jobs))}
        out = []
        for job in sorted(self.jobs.values(), key=lambda j: j.name):
            r = rows.get(job.name)
            out.append({
                "name": job.name, "schedule": str(job.schedule), "actor": job.actor_name,
                "description": job.description, "runs": r.runs if r else 0,
                "last_run_at": as_utc(r.last_run_at) if r else None,
                "next_run_at": as_utc(r.next_run_at) if r else None,
                "last_result": r.last_result if r else "",
                "last_finished_at": as_utc(r.last_finished_at) if r else None,
            })
        return out

    def run_forever(self, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        synced = False
        while not stop.is_set() and not self._stop.is_set():
            try:
                if not synced:
                    self.sync()
                    synced = True
                self.tick()
                self.error = None
            except Exception as exc:  # e.g. Redis down: log, keep trying; the job stays due
                self.error = exc
                log.error("scheduler_tick_failed", error=repr(exc))
            stop.wait(interval)

    def start_thread(self, interval: float = 1.0) -> threading.Thread:
        if self._thread and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, args=(interval,), name="scheduler",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


def run_scheduler(container: Container, stop: threading.Event | None = None, interval: float = 1.0) -> int:
    """`retaguarda scheduler`: blocks, sending due jobs, until `stop` is set (or SIGINT/SIGTERM)."""
    scheduler = container.scheduler
    if stop is None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())  # type: ignore[union-attr]
    log.info("scheduler_started", jobs=sorted(scheduler.jobs))
    scheduler.run_forever(interval, stop)
    return 0
