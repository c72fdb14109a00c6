"""Jobs: functions of `(container, *ids)` declared as Dramatiq actors per container.

`@job(...)` turns a function into a `JobSpec` (the function plus its actor name, queue and retry
limits; still callable as `spec(container, *args)`) and records it nowhere: a context lists its
jobs in its `Context.jobs`, `bootstrap` collects them into the container's registry and
`register_actors(broker, container)` declares them on that container's broker (Dramatiq's own
`@actor` would bind to the global broker at import time, which we never want). The wrapper passes
the container of the broker that delivered the message as the first argument, so several
containers in one process (tests) never see each other's work. Jobs always state their retry
limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage, Middleware, Retries

from retaguarda.integrations.errors import PermanentError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.integrations")

JobFn = Callable[..., Any]
"""`fn(container, *message_args)`."""
GiveUpHandler = Callable[..., None]
"""`handler(container, *message_args, error=..., attempts=...)`."""


@dataclass(frozen=True)
class JobSpec:
    fn: JobFn
    actor_name: str
    queue_name: str
    options: dict[str, Any] = field(default_factory=dict)
    on_give_up: GiveUpHandler | None = None
    """Called with the container, the message's args plus `error=` and `attempts=` when the job
    will not be retried."""

    def __call__(self, container: Container, *args: Any, **kwargs: Any) -> Any:
        """Runs the job body directly (tests, the CLI): same as a delivered message, minus retries."""
        return self.fn(container, *args, **kwargs)


def job(*, actor_name: str, queue_name: str, max_retries: int, min_backoff: int = 1000,
        max_backoff: int = 60000, throws: tuple[type[BaseException], ...] = (PermanentError,),
        time_limit: int = 60_000, on_give_up: GiveUpHandler | None = None,
        **options: Any) -> Callable[[JobFn], JobSpec]:
    """Makes `fn` a JobSpec; retries are explicit (never Dramatiq's default of 20 over 7 days)."""

    def make(fn: JobFn) -> JobSpec:
        return JobSpec(
            fn=fn, actor_name=actor_name, queue_name=queue_name, on_give_up=on_give_up,
            options=dict(max_retries=max_retries, min_backoff=min_backoff, max_backoff=max_backoff,
                         throws=throws, time_limit=time_limit, **options),
        )

    return make


def current_attempt() -> int:
    """1 for the first delivery of the running message, 2 for its first retry, …"""
    message = CurrentMessage.get_current_message()
    return (message.options.get("retries", 0) if message else 0) + 1


class GiveUp(Middleware):
    """After Retries decided a message is failed (last retry or a `throws` error), tells the job.

    Added *before* Retries in the middleware list: `after_*` hooks run in reverse order, so this
    one sees the message after Retries marked it failed.
    """

    def __init__(self, container: Container) -> None:
        self.container = container

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if exception is None or not message.failed:
            return
        spec = self.container.registry.jobs.get(message.actor_name)
        if spec is None or spec.on_give_up is None:
            return
        throws = spec.options.get("throws") or ()
        retries = message.options.get("retries", 0)
        attempts = retries + 1 if throws and isinstance(exception, throws) else retries
        error = f"{type(exception).__name__}: {exception}"
        try:
            spec.on_give_up(self.container, *message.args, error=error, attempts=max(attempts, 1),
                            **message.kwargs)
        except Exception as exc:  # the message is dead-lettered anyway; the reconciler re-sends it
            log.error("give_up_failed", actor=message.actor_name, error=repr(exc))


def _wrap(spec: JobSpec, container: Container) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        message = CurrentMessage.get_current_message()
        scheduled = message.options.get("scheduled_job") if message else None
        try:
            result = spec.fn(container, *args, **kwargs)
        except BaseException as exc:
            if scheduled:
                _record_scheduled(container, scheduled, f"error: {type(exc).__name__}: {exc}")
            raise
        if scheduled:
            _record_scheduled(container, scheduled, f"ok: {result}" if result is not None else "ok")
        log.info("job_done", actor=spec.actor_name, result=str(result)[:200])
        return None  # outcomes are events or the jobs table; there is no result backend

    run.__name__ = spec.fn.__name__
    run.__qualname__ = spec.fn.__qualname__
    run.__doc__ = spec.fn.__doc__
    return run


def _record_scheduled(container: Container, name: str, result: str) -> None:
    from retaguarda.integrations.scheduler import record_result

    try:
        record_result(container, name, result)
    except Exception as exc:  # bookkeeping must never fail the job itself
        log.warning("scheduled_result_not_recorded", job=name, error=repr(exc))


def register_actors(broker: Any, container: Container) -> dict[str, Any]:
    """Declares every job of the container's registry not yet on `broker`; returns actor name →
    Dramatiq actor."""
    if not any(isinstance(m, GiveUp) for m in broker.middleware):
        broker.add_middleware(GiveUp(container), before=Retries)
    actors = {}
    declared = set(broker.get_declared_actors())
    for spec in container.registry.jobs.values():
        if spec.actor_name in declared:  # idempotent
            actors[spec.actor_name] = broker.get_actor(spec.actor_name)
            continue
        actors[spec.actor_name] = dramatiq.actor(
            _wrap(spec, container), broker=broker, actor_name=spec.actor_name,
            queue_name=spec.queue_name, **spec.options,
        )
    return actors


def tune_actors(broker: Any, **options: Any) -> None:
    """Overrides options (e.g. `min_backoff=5`) of every declared actor: tests and demos."""
    for name in broker.get_declared_actors():
        broker.get_actor(name).options.update(options)
