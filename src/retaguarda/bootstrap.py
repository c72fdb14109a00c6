"""The composition root: settings → event store → read models → services → broker.

Nothing is built at import time; `bootstrap()` builds it all and every entry point (web,
worker, projector, scheduler, CLI, tests) consumes the returned Container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from retaguarda.eventstore import EventStore
from retaguarda.readdb import create_read_engine
from retaguarda.settings import Settings, load_settings
from retaguarda.shared.clock import Clock, SystemClock


@dataclass
class Container:
    settings: Settings
    clock: Clock
    store: EventStore
    engine: Engine
    runner: Any
    services: dict[str, Any] = field(default_factory=dict)
    ports: dict[str, Any] = field(default_factory=dict)
    broker: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # container.customers, container.identity … are the registered services.
        services = self.__dict__.get("services", {})
        if name in services:
            return services[name]
        raise AttributeError(name)

    def projection_names(self) -> list[str]:
        return self.runner.names

    def after_write(self, position: int) -> None:
        """Wakes the in-process projector as soon as events are saved."""
        self.runner.wake.set()

    def wait_for(self, position: int, timeout: float | None = None) -> bool:
        """Read-your-writes: bounded wait for every read model to reach `position`."""
        from projections.runner import wait_for

        if position <= 0:
            return True
        return wait_for(self.engine, self.runner.names, position,
                        self.settings.read_your_writes_timeout if timeout is None else timeout)

    def close(self) -> None:
        stop = getattr(self.runner, "stop", None)
        if stop:
            stop()
        for closer in self.extras.get("on_close", []):
            closer()
        self.engine.dispose()
        self.store.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None,
              **overrides: Any) -> Container:
    from projections.registry import all_projections
    from projections.runner import ProjectionRunner

    settings = settings or load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    projections = all_projections()  # imports every domain first, so value types are registered
    for projection in projections:
        projection.configure(settings)
    engine = create_read_engine(settings.sqlalchemy_url(), settings.database_schema)
    store = EventStore(env=settings.eventsourcing_env())
    runner = ProjectionRunner(store, engine, projections, settings.projector_batch_size)
    container = Container(settings=settings, clock=clock or SystemClock(), store=store,
                          engine=engine, runner=runner)
    for install in _INSTALLERS:
        install(container)
    from retaguarda.contexts import context_modules

    for module in context_modules("install"):
        module.install(container)
    if container.broker is not None:
        # Jobs recorded by the context installers become actors on the same broker.
        from retaguarda.integrations.jobs import register_actors

        container.extras["actors"] = register_actors(container.broker, container)
    for key, value in overrides.items():
        if key in container.services:
            container.services[key] = value
        else:
            container.ports[key] = value
    return container


def _customers(c: Container) -> None:
    from retaguarda.customers import Customers

    c.services["customers"] = Customers(c.store, c.after_write)


def _optional(module: str) -> Any:
    """Context installers: each context module exposes `install(container)`."""

    def install(c: Container) -> None:
        import importlib

        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                return
            raise
        mod.install(c)

    return install


_INSTALLERS = (
    _customers,
    _optional("retaguarda.notifications.install"),
    _optional("retaguarda.identity.install"),
    _optional("retaguarda.integrations.install"),
)
