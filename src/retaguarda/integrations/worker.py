"""`retaguarda worker`: a Dramatiq worker (plus the dispatcher) as its own process."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.worker")


def run_worker(container: Container, stop: threading.Event | None = None, *, with_dispatcher: bool = True,
               worker_threads: int = 8) -> int:
    """Consumes every declared queue until `stop` is set (or SIGINT/SIGTERM when not given).

    The dispatcher runs here too (several are safe: compare-and-set on its position), so the
    four production processes (web, worker, projector, scheduler) cover everything. Returns 1
    when the dispatcher stopped on a failed send (the process should restart), else 0.
    """
    if stop is None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())  # type: ignore[union-attr]
    worker = container.worker
    worker.worker_threads = worker_threads
    worker.worker_timeout = 1000
    worker.start()
    dispatcher = container.dispatcher
    if with_dispatcher:
        dispatcher.start_thread()
    log.info("worker_started", queues=sorted(container.broker.get_declared_queues()),
             dispatcher=with_dispatcher)
    code = 0
    try:
        while not stop.wait(0.5):
            if with_dispatcher and dispatcher.error is not None:
                log.error("dispatcher_failed", error=repr(dispatcher.error))
                code = 1
                break
    finally:
        dispatcher.stop()
        worker.stop()
    return code
