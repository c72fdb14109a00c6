"""Re-sends work stuck in a pending state, so a lost message never loses work.

Contexts declare a finder in `Context.reconcilers`: `Reconciler("emails", find)` where
`find(container, older_than: datetime) -> list[(actor_name, args)]` lists the messages to send
again for aggregates pending since before `older_than` (usually from a read model). Actors are
idempotent, so re-sending work that is merely slow is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.integrations.jobs import job

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.reconciler")

Finder = Callable[["Container", datetime], Sequence[tuple[str, Sequence[Any]]]]


@dataclass(frozen=True)
class Reconciler:
    name: str
    find: Finder


STUCK_AFTER = timedelta(minutes=10)
"""Longer than the longest retry sequence (5 retries, backoff capped at 60 s)."""


def reconcile(container: Container, stuck_after: timedelta = STUCK_AFTER) -> dict[str, int]:
    """Sends the trigger again for every stuck aggregate; returns counts per finder."""
    cutoff = container.clock.now() - stuck_after
    counts: dict[str, int] = {}
    for name, reconciler in container.registry.reconcilers.items():
        resent = 0
        for actor_name, args in reconciler.find(container, cutoff):
            container.broker.get_actor(actor_name).send_with_options(args=tuple(args))
            resent += 1
        counts[name] = resent
        if resent:
            log.warning("reconciler_resent", finder=name, count=resent)
    return counts


@job(actor_name="integrations.reconcile", queue_name="integrations", max_retries=0,
     time_limit=300_000)
def reconcile_job(container: Container) -> str:
    """Periodic: re-sends stuck work. Never retried (the next period runs it again)."""
    counts = reconcile(container)
    return ", ".join(f"{k}: {v} re-sent" for k, v in counts.items()) or "nothing to reconcile"
