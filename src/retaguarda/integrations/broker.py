"""The Dramatiq broker (StubBroker embedded, Redis in production) and the worker around it."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 1_000
DEFAULT_MAX_BACKOFF_MS = 60_000


def _middleware() -> list[Any]:
    return [
        CurrentMessage(),
        AgeLimit(),
        TimeLimit(time_limit=60_000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # Explicit limits: Dramatiq's default is 20 retries over up to 7 days.
        Retries(max_retries=DEFAULT_MAX_RETRIES, min_backoff=DEFAULT_MIN_BACKOFF_MS,
                max_backoff=DEFAULT_MAX_BACKOFF_MS),
    ]


def make_broker(settings: Any, *, namespace: str = "retaguarda") -> Any:
    """StubBroker when `settings.redis_url` is unset (embedded), else a RedisBroker.

    Sets it as Dramatiq's global broker here (called once from install), never at import.
    """
    if settings.redis_url:
        from dramatiq.brokers.redis import RedisBroker

        broker: Any = RedisBroker(url=settings.redis_url, namespace=namespace, middleware=_middleware())
    else:
        broker = StubBroker(middleware=_middleware(), fail_fast_default=False)
    dramatiq.set_broker(broker)
    return broker


def is_embedded(broker: Any) -> bool:
    return isinstance(broker, StubBroker)


class WorkerHandle:
    """One in-process Dramatiq worker per broker (Dramatiq allows one Worker per process)."""

    def __init__(self, broker: Any, *, worker_threads: int = 4, worker_timeout: int = 100,
                 queues: set[str] | None = None) -> None:
        self.broker = broker
        self.worker_threads = worker_threads
        self.worker_timeout = worker_timeout
        self.queues = queues
        self.worker: Any = None
        self._lock = threading.Lock()

    def start(self) -> Any:
        with self._lock:
            if self.worker is None:
                self.worker = dramatiq.Worker(self.broker, worker_threads=self.worker_threads,
                                              worker_timeout=self.worker_timeout, queues=self.queues)
                self.worker.start()
            return self.worker

    def stop(self, timeout_ms: int = 10_000) -> None:
        with self._lock:
            if self.worker is not None:
                self.worker.stop(timeout=timeout_ms)
                self.worker = None

    @property
    def running(self) -> bool:
        return self.worker is not None
