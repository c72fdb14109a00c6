"""Wires the integrations backbone into the container (bootstrap declares jobs recorded later by
the business contexts' installers on the same broker, see `bootstrap`).

Creates the broker, declares every recorded job as an actor, the dispatcher and the scheduler,
and registers how the embedded mode starts and stops them.
"""

from __future__ import annotations

from typing import Any

from retaguarda.integrations import runtime
from retaguarda.integrations.broker import WorkerHandle, make_broker
from retaguarda.integrations.dispatcher import Dispatcher
from retaguarda.integrations.jobs import register_actors
from retaguarda.integrations.reconciler import STUCK_AFTER
from retaguarda.integrations.scheduler import Every, Scheduler, register_periodic


def install(container: Any) -> None:
    import retaguarda.integrations.reconciler  # noqa: F401  (records its job)

    register_periodic("reconcile", Every(int(STUCK_AFTER.total_seconds() // 2)),
                      "integrations.reconcile", "Re-sends work stuck pending (e.g. queued e-mails)")
    broker = make_broker(container.settings)
    container.broker = broker
    container.extras["actors"] = register_actors(broker, container)
    dispatcher = Dispatcher(container.store, container.engine, broker,
                            container.settings.projector_batch_size)
    scheduler = Scheduler(container)
    worker = WorkerHandle(broker)
    container.extras.update(dispatcher=dispatcher, scheduler=scheduler, worker=worker)
    runtime.bind(container)

    def start_embedded() -> None:
        """Dispatcher thread + in-process worker + scheduler thread (idempotent)."""
        dispatcher.start_thread()
        worker.start()
        scheduler.start_thread()

    def stop_embedded() -> None:
        scheduler.stop()
        dispatcher.stop()
        worker.stop()

    container.extras["start_embedded"] = start_embedded
    container.extras.setdefault("on_close", []).append(stop_embedded)
