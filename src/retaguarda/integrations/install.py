"""Wires the integrations backbone into a container: the broker with every job of the container's
registry declared on it as an actor, the dispatcher (triggers), the scheduler (periodic jobs), the
in-process worker, and how the embedded mode starts and stops them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retaguarda.integrations.broker import WorkerHandle, make_broker
from retaguarda.integrations.dispatcher import Dispatcher
from retaguarda.integrations.jobs import register_actors
from retaguarda.integrations.scheduler import Scheduler

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def install(container: Container) -> None:
    broker = make_broker(container.settings)
    container.broker = broker
    container.actors = register_actors(broker, container)
    dispatcher = Dispatcher(container.store, container.engine, broker, container.registry.triggers,
                            container.settings.projector_batch_size)
    scheduler = Scheduler(container)
    worker = WorkerHandle(broker)
    container.dispatcher, container.scheduler, container.worker = dispatcher, scheduler, worker

    def start_embedded() -> None:
        """Dispatcher thread + in-process worker + scheduler thread (idempotent)."""
        dispatcher.start_thread()
        worker.start()
        scheduler.start_thread()

    def stop_embedded() -> None:
        scheduler.stop()
        dispatcher.stop()
        worker.stop()

    container.start_embedded = start_embedded
    container.on_close.append(stop_embedded)
