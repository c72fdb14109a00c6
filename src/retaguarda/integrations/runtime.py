"""The container actors run against, set by `integrations.install` (never at import).

Actors receive only ids; they reach services and ports through `container()`. While an actor
runs, the container of the broker that delivered the message is bound to the worker thread, so
several containers in one process (tests) never see each other's work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_installed: Any = None
_local = threading.local()


def bind(container: Any) -> None:
    """Makes `container` the process-wide default (the last installed one wins)."""
    global _installed
    _installed = container


def container() -> Any:
    current = getattr(_local, "container", None) or _installed
    if current is None:
        raise RuntimeError("no container installed: call bootstrap() before running actors")
    return current


@contextmanager
def using(container: Any) -> Iterator[Any]:
    previous = getattr(_local, "container", None)
    _local.container = container
    try:
        yield container
    finally:
        _local.container = previous


def run_worker(container: Any, stop: Any = None, **options: Any) -> int:
    """`retaguarda worker` (see integrations.worker.run_worker)."""
    from retaguarda.integrations.worker import run_worker as run

    return run(container, stop, **options)
