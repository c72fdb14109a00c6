"""How a bounded context plugs into the spine: one `Context` value, declared, never registered.

Each context `<ctx>` exports `CONTEXT = Context(...)` from `retaguarda/<ctx>/context.py` (not from
its package `__init__`, so its projections may import its events without a cycle), and
`retaguarda/contexts.py::CONTEXTS` lists every one of them, in install order. Everything that used
to be found by name or filled into module-global registries by import side effects is a field:

- `install(container)` builds the context's service(s) and ports and assigns them to the typed
  attributes declared on `bootstrap.Container` (e.g. `container.billing = Billing(...)`).
- `routes` (mounted under /api/v1) and `pages` (mounted at /) are Litestar handlers/routers.
- `projections()` returns fresh Projection objects (the runner, replay and Alembic read them).
- `tables` are read-side tables that are not projections (job bookkeeping, caches): Alembic.
- `jobs` are `@job` functions (`fn(container, *args)`), declared as actors on each container's
  broker; `triggers` turn stored events into their messages (dispatcher), `periodic` sends them
  on a schedule (scheduler), `reconcilers` re-send work stuck pending.
- `email_templates` are the templates `Notifications.send_email` accepts.
- `template_globals` are added to the Jinja environment of the app.
- `seed_demo(container, tenant_id, actor)` adds the context's part of the demo tenant.
- `dashboard(conn, principal)` returns the context's cards on the home page.

`bootstrap()` turns the tuple into one `Registry` per container, so two containers in one
process (tests) never share a job, trigger or template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retaguarda.integrations.dispatcher import Trigger
from retaguarda.integrations.jobs import JobSpec
from retaguarda.integrations.reconciler import Reconciler
from retaguarda.integrations.scheduler import PeriodicJob
from retaguarda.notifications.templates import EmailTemplate, Render

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection

    from projections.base import Projection
    from retaguarda.bootstrap import Container
    from retaguarda.web.principal import Principal

Installer = Callable[["Container"], None]
DemoSeeder = Callable[["Container", str, str], None]
DashboardCards = Callable[["Connection", "Principal"], list[dict[str, Any]]]


def no_projections() -> list[Projection]:
    return []


@dataclass(frozen=True)
class Context:
    """One bounded context's contribution to the application (see the module docstring)."""

    name: str
    install: Installer | None = None
    routes: Sequence[Any] = ()
    pages: Sequence[Any] = ()
    projections: Callable[[], Sequence[Projection]] = no_projections
    tables: Sequence[sa.Table] = ()
    jobs: Sequence[JobSpec] = ()
    triggers: Sequence[Trigger] = ()
    periodic: Sequence[PeriodicJob] = ()
    reconcilers: Sequence[Reconciler] = ()
    email_templates: Sequence[EmailTemplate] = ()
    template_globals: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    seed_demo: DemoSeeder | None = None
    dashboard: DashboardCards | None = None
    package: str = ""
    """Dotted package of the context's code; defaults to `retaguarda.<name>`."""

    @property
    def module(self) -> str:
        return self.package or f"retaguarda.{self.name}"


@dataclass
class Registry:
    """The per-container registries built from the contexts' declarations (never module-global)."""

    jobs: dict[str, JobSpec] = field(default_factory=dict)
    triggers: dict[str, list[Trigger]] = field(default_factory=dict)
    """Event topic → triggers (the dispatcher looks them up by the stored event's topic)."""
    periodic: dict[str, PeriodicJob] = field(default_factory=dict)
    reconcilers: dict[str, Reconciler] = field(default_factory=dict)
    templates: dict[str, Render] = field(default_factory=dict)

    @classmethod
    def of(cls, contexts: Sequence[Context]) -> Registry:
        """Collects every declaration; a name declared twice is a wiring error, raised at once."""
        registry = cls()
        for ctx in contexts:
            for spec in ctx.jobs:
                _add(registry.jobs, spec.actor_name, spec, ctx, "job")
            for trigger in ctx.triggers:
                registry.triggers.setdefault(trigger.topic, []).append(trigger)
            for periodic in ctx.periodic:
                _add(registry.periodic, periodic.name, periodic, ctx, "periodic job")
            for reconciler in ctx.reconcilers:
                _add(registry.reconcilers, reconciler.name, reconciler, ctx, "reconciler")
            for template in ctx.email_templates:
                _add(registry.templates, template.name, template.render, ctx, "e-mail template")
        for topic, triggers in registry.triggers.items():
            for trigger in triggers:
                if trigger.actor_name not in registry.jobs:
                    raise LookupError(f"trigger on {topic} names unknown job {trigger.actor_name!r}")
        for periodic in registry.periodic.values():
            if periodic.actor_name not in registry.jobs:
                raise LookupError(f"periodic job {periodic.name!r} names unknown job {periodic.actor_name!r}")
        return registry


def _add(target: dict[str, Any], key: str, value: Any, ctx: Context, what: str) -> None:
    if key in target:
        raise ValueError(f"{what} {key!r} declared twice (again by context {ctx.name!r})")
    target[key] = value


__all__ = ["Context", "EmailTemplate", "JobSpec", "PeriodicJob", "Reconciler", "Registry", "Trigger"]
