"""The composition root: settings → event store → read models → registries → services → broker.

Nothing is built at import time; `bootstrap()` builds it all and every entry point (web,
worker, projector, scheduler, CLI, tests) consumes the returned Container.

The Container is typed: one attribute per service and port. The spine's attributes are set here
or by the spine contexts' installers; each business context's attributes are declared below
(so an editor and a type checker can follow `container.fiscal.find_note`) and assigned by that
context's `install(container)`. Reading one whose context is not installed raises
AttributeError. The contexts themselves come from `retaguarda.contexts.CONTEXTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from retaguarda.consistency import record_write, settle_pending
from retaguarda.eventstore import EventStore
from retaguarda.readdb import create_read_engine
from retaguarda.settings import Settings, load_settings
from retaguarda.shared.clock import Clock, SystemClock

if TYPE_CHECKING:
    from dramatiq import Actor, Broker

    from projections.runner import ProjectionRunner
    from retaguarda.billing.access_network import AccessNetworkWebhook
    from retaguarda.billing.application import Billing
    from retaguarda.billing.gateways.mercadopago import MercadoPagoClient
    from retaguarda.billing.gateways.stripe import StripeClient
    from retaguarda.campaigns.application import Campaigns
    from retaguarda.campaigns.pipeline import PipelineState, Tuning
    from retaguarda.campaigns.providers.base import CampaignProvider
    from retaguarda.cash.application import Cash
    from retaguarda.cash.domain import CashAccount
    from retaguarda.cash.pixapi import PixApiClient
    from retaguarda.cnpj.application import Checks, CnpjService
    from retaguarda.cnpj.providers.chain import ProviderChain
    from retaguarda.cnpj.ratelimit import RateLimiter
    from retaguarda.cnpj.telemetry import Telemetry
    from retaguarda.contracts.application import Contracts
    from retaguarda.customers.application import Customers
    from retaguarda.energy.application import Energy
    from retaguarda.field.application import Field
    from retaguarda.files import AttachmentStore
    from retaguarda.fiscal.application import Fiscal
    from retaguarda.fiscal.nfcom.application import NfcomService
    from retaguarda.identity.application import Identity
    from retaguarda.identity.authn import AuthCache, Authenticator
    from retaguarda.identity.revocation import FamilyRevocations
    from retaguarda.integrations.broker import WorkerHandle
    from retaguarda.integrations.dispatcher import Dispatcher
    from retaguarda.integrations.scheduler import Scheduler
    from retaguarda.notifications.application import Notifications
    from retaguarda.notifications.mailers import Mailer
    from retaguarda.plugin import Registry
    from retaguarda.portal.application import Portal
    from retaguarda.reports.application import Reports
    from retaguarda.support.application import Support

    TenantSettings = Any  # a context's settings aggregate, passed to its port factories


@dataclass(eq=False, repr=False)
class Container:
    """`field(init=False)`: an attribute its context's installer assigns (absent until then, so
    reading it early is an AttributeError, never a None to trip over later)."""

    # The core, built by bootstrap() ------------------------------------------------------
    settings: Settings
    clock: Clock
    store: EventStore
    engine: Engine
    runner: ProjectionRunner
    registry: Registry
    """Jobs, triggers, periodic jobs, reconcilers and e-mail templates of every context."""

    # Process hooks (any installer may append) --------------------------------------------
    on_close: list[Callable[[], None]] = field(default_factory=list)
    on_startup: list[Callable[..., Any]] = field(default_factory=list)
    on_shutdown: list[Callable[..., Any]] = field(default_factory=list)
    web_plugins: list[Any] = field(default_factory=list)
    template_globals: dict[str, Callable[..., Any]] = field(default_factory=dict)
    """Jinja globals: the contexts' `template_globals`, merged by bootstrap."""

    # Spine: customers, identity, notifications, integrations ------------------------------
    customers: Customers = field(init=False)
    identity: Identity = field(init=False)
    identity_revocations: FamilyRevocations = field(init=False)
    """Revoked refresh families, checked on each access token (cached briefly; Redis when set)."""
    authenticators: list[Authenticator] = field(default_factory=list)
    """Tried in order by the request middleware; the first to return a Principal wins."""
    auth_cache: AuthCache | None = None
    notifications: Notifications = field(init=False)
    mailer: Mailer = field(init=False)
    broker: Broker = field(init=False)
    actors: dict[str, Actor[Any, Any]] = field(default_factory=dict)
    dispatcher: Dispatcher = field(init=False)
    scheduler: Scheduler = field(init=False)
    worker: WorkerHandle = field(init=False)
    start_embedded: Callable[[], None] | None = None
    """Starts dispatcher + in-process worker + scheduler (the embedded server, tests)."""
    announcers: dict[type, Callable[[Any, Any], list[Any]]] = field(default_factory=dict)
    """Aggregate type → router of its announced events (notifications.announce); contexts add theirs."""
    ready_max_lag: int | None = None
    """Overrides web.ops.DEFAULT_MAX_LAG for /health/ready (tests set it low)."""

    # support -----------------------------------------------------------------------------
    support: Support = field(init=False)
    support_attachments: AttachmentStore = field(init=False)

    # fiscal ------------------------------------------------------------------------------
    fiscal: Fiscal = field(init=False)
    fiscal_poll_ms: int | None = None
    """Fixed poll delay of async gateways (embedded server, tests); None: exponential backoff."""
    fiscal_backend_options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments of the backend adapters (tests: CA bundle, simulated authority)."""
    fiscal_backends: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Cache of backend adapters per tenant settings/certificate version."""
    nfcom: NfcomService = field(init=False)
    nfcom_backend_options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments of the NFCom adapters (tests: CA bundle, simulated SVRS, timeouts)."""
    nfcom_backends: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Cache of NFCom adapters per tenant settings/certificate version."""
    nfcom_svrs_url: str | None = None
    """Overrides the public SVRS host (tests point it at the fake SVRS)."""

    # cnpj --------------------------------------------------------------------------------
    cnpj: CnpjService = field(init=False)
    cnpj_checks: Checks = field(init=False)
    cnpj_chain: ProviderChain | None = None
    """Set before install (e.g. by a test) to replace the provider chain built from settings."""
    cnpj_limiter: RateLimiter = field(init=False)
    cnpj_telemetry: Telemetry = field(init=False)

    # billing -----------------------------------------------------------------------------
    billing: Billing = field(init=False)
    stripe_factory: Callable[[TenantSettings], StripeClient | None] = field(init=False)
    mercadopago_factory: Callable[[TenantSettings], MercadoPagoClient | None] = field(init=False)
    access_network_factory: Callable[[TenantSettings], AccessNetworkWebhook | None] = field(init=False)

    # field -------------------------------------------------------------------------------
    service_orders: Field = field(init=False)
    """The field context's service (named for what it holds: `field` is dataclasses' own)."""
    field_photos: AttachmentStore = field(init=False)

    # campaigns ---------------------------------------------------------------------------
    campaigns: Campaigns = field(init=False)
    campaigns_tuning: Tuning = field(init=False)
    campaigns_state: PipelineState = field(init=False)
    campaigns_providers: dict[str, CampaignProvider] = field(default_factory=dict)
    """Provider name → a client to use instead of the one built from the tenant's settings."""

    # contracts ---------------------------------------------------------------------------
    contracts: Contracts = field(init=False)

    # cash --------------------------------------------------------------------------------
    cash: Cash = field(init=False)

    # reports -----------------------------------------------------------------------------
    reports: Reports = field(init=False)
    cash_psp_factory: Callable[[CashAccount], PixApiClient | None] = field(init=False)
    """An account's API Pix client (None without a PSP); tests point it at the fake PSP."""

    # portal ------------------------------------------------------------------------------
    portal: Portal = field(init=False)
    # energy ------------------------------------------------------------------------------
    energy: Energy = field(init=False)
    energy_portals: dict[str, Any] = field(default_factory=dict)
    """Portal adapter name → adapter (built on first use); tests put the fake portal's client here."""

    def projection_names(self) -> list[str]:
        return self.runner.names

    def after_write(self, position: int) -> None:
        """Every service calls this after a save: wakes the in-process projector and records the
        position for the running request's read-your-writes (see `retaguarda.consistency`)."""
        record_write(position)
        self.runner.wake.set()

    def wait_for(self, position: int, timeout: float | None = None) -> bool:
        """Read-your-writes: bounded wait for every read model to reach `position`."""
        from projections.runner import wait_for

        if position <= 0:
            return True
        return wait_for(self.engine, self.runner.names, position,
                        self.settings.read_your_writes_timeout if timeout is None else timeout)

    def close(self) -> None:
        self.runner.stop()
        for closer in self.on_close:
            closer()
        self.engine.dispose()
        self.store.close()


OVERRIDABLE = frozenset(f.name for f in fields(Container)) - {"settings", "clock", "store", "engine",
                                                               "runner", "registry"}


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None,
              **overrides: Any) -> Container:
    """Builds a container with every context of `CONTEXTS` installed.

    `overrides` replace services or ports after the installers ran (tests: `mailer=...`); a name
    that is not a Container attribute is a TypeError.
    """
    from projections.runner import ProjectionRunner
    from retaguarda.contexts import CONTEXTS
    from retaguarda.plugin import Registry

    unknown = sorted(set(overrides) - OVERRIDABLE)
    if unknown:
        raise TypeError(f"bootstrap() got unknown override(s): {', '.join(unknown)}")
    settings = settings or load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    projections = [p for ctx in CONTEXTS for p in ctx.projections()]
    for projection in projections:
        projection.configure(settings)
    engine = create_read_engine(settings.sqlalchemy_url(), settings.database_schema)
    store = EventStore(env=settings.eventsourcing_env())
    runner = ProjectionRunner(store, engine, projections, settings.projector_batch_size)
    container = Container(settings=settings, clock=clock or SystemClock(), store=store,
                          engine=engine, runner=runner, registry=Registry.of(CONTEXTS))
    # A request reading a read model after writing waits for its writes first (read-your-writes).
    event.listen(engine, "engine_connect", lambda _conn: settle_pending(container))
    for ctx in CONTEXTS:
        container.template_globals.update(ctx.template_globals)
    for ctx in CONTEXTS:
        if ctx.install is not None:
            ctx.install(container)
    for key, value in overrides.items():
        setattr(container, key, value)
    return container


__all__ = ["Container", "bootstrap"]
