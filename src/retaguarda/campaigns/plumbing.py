"""The shared plumbing of the campaign use cases (fan-out, send, receipts, watchdog): tuning
knobs, per-container caches, the tenant's provider clients, rate limits and concurrency caps,
enqueueing and delays. Delays follow the container clock: a step due at `t` is re-checked after
`min(t - now, tuning.max_delay_seconds)` of real time, so tests with a fast clock see a 2- or
20-minute step in well under a second."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.campaigns.domain import (
    Campaign,
    CampaignSettings,
)
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.campaigns")


SYSTEM_ACTOR = "system:campaigns"
QUEUE = "campaigns"


@dataclass
class Tuning:
    """Knobs of the pipeline (not tenant settings): tests and the benchmark change them."""

    batch_size: int = 1000
    max_delay_seconds: float = 3600.0
    """Longest single Dramatiq delay before the clock is looked at again."""
    finalize_every_seconds: float = 2.0
    campaign_cache_seconds: float = 1.0
    settings_cache_seconds: float = 2.0
    limiter_wait_seconds: float = 1.0
    """How long a worker thread waits for a rate-limit slot before re-queueing the message."""
    step_delay_seconds: dict[str, float] = field(default_factory=dict)
    """Overrides of a two-step provider's delay (seconds of clock time)."""
    http_timeout: float = 10.0
    send_chunk: int = 20
    """Messages per send job: their `Sent` events share one commit (the event store's cost)."""


def tuning(container: Container) -> Tuning:
    return container.campaigns_tuning


def send_actor(provider: str) -> str:
    return f"campaigns.send_{provider}"


def system_meta(container: Container, tenant_id: str, correlation_id: str) -> Meta:
    return Meta(tenant_id=tenant_id, actor=SYSTEM_ACTOR, correlation_id=correlation_id,
                at=container.clock.now())


# --- caches (per process) ------------------------------------------------------------------

class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, ttl: float, load: Any) -> Any:
        now = time.monotonic()
        with self.lock:
            hit = self.items.get(key)
            if hit and now - hit[0] < ttl:
                return hit[1]
        value = load()
        with self.lock:
            if len(self.items) > 10_000:
                self.items.clear()
            self.items[key] = (now, value)
        return value

    def drop(self, key: Any) -> None:
        with self.lock:
            self.items.pop(key, None)


PipelineState = dict[str, Any]
"""Per-container caches of the pipeline (campaigns, settings, provider clients, limiters)."""


def new_state() -> PipelineState:
    return {"campaigns": _Cache(), "settings": _Cache(), "providers": {}, "lock": threading.Lock(),
            "limiters": {}, "backend": None, "stripes": [threading.Lock() for _ in range(64)],
            "token_cache": None}


def _state(container: Container) -> PipelineState:
    return container.campaigns_state


def cached_campaign(container: Container, campaign_id: str) -> Campaign | None:
    return _state(container)["campaigns"].get(
        campaign_id, tuning(container).campaign_cache_seconds,
        lambda: container.campaigns.find_campaign(campaign_id))


def forget_campaign(container: Container, campaign_id: str) -> None:
    _state(container)["campaigns"].drop(campaign_id)


def forget_settings(container: Container, tenant_id: str) -> None:
    _state(container)["settings"].drop(tenant_id)


def tenant_settings(container: Container, tenant_id: str) -> CampaignSettings | None:
    return _state(container)["settings"].get(
        tenant_id, tuning(container).settings_cache_seconds,
        lambda: container.campaigns.get_settings(tenant_id))


def provider_options(settings: CampaignSettings | None, provider: str) -> dict[str, Any]:
    from retaguarda.campaigns.domain import default_provider_options

    return settings.provider_options(provider) if settings else default_provider_options(provider)


def general_options(settings: CampaignSettings | None) -> dict[str, Any]:
    from retaguarda.campaigns.domain import DEFAULT_GENERAL

    return {**DEFAULT_GENERAL, **(settings.general if settings else {})}


def provider_for(container: Container, tenant_id: str, name: str, *, sms_fallback: bool = True) -> Any:
    """The tenant's client for `name` (cached per settings version; the HTTP pool is reused)."""
    from retaguarda.campaigns.providers import MemoryTokenCache, make_provider

    settings = tenant_settings(container, tenant_id)
    version = settings.version if settings else 0
    key = (tenant_id, name, version, sms_fallback)
    state = _state(container)
    providers = state["providers"]
    found = providers.get(key)
    if found is not None:
        return found
    with state["lock"]:
        found = providers.get(key)
        if found is not None:
            return found
        creds = settings.credentials if settings else {}
        if state["token_cache"] is None:
            state["token_cache"] = MemoryTokenCache()
        token_cache = state["token_cache"]
        override = container.campaigns_providers.get(name)
        fallback = None
        if name == "rcs" and sms_fallback:
            fallback = make_provider("sms", settings=container.settings, credentials=creds.get("sms", {}),
                                     clock=container.clock, timeout=tuning(container).http_timeout)
        provider = override or make_provider(
            name, settings=container.settings, credentials=creds.get(name, {}), clock=container.clock,
            sms_fallback=fallback, token_cache=token_cache, timeout=tuning(container).http_timeout)
        for old_key in [k for k in providers if k[:2] == (tenant_id, name) and k[2] != version]:
            old = providers.pop(old_key)
            close = getattr(old, "close", None)
            if close and old is not override:
                close()
        providers[key] = provider
        return provider


def close_providers(container: Container) -> None:
    state = _state(container)
    for provider in state["providers"].values():
        close = getattr(provider, "close", None)
        if close:
            try:
                close()
            except Exception:  # closing a pool must never stop shutdown
                pass
    state["providers"].clear()


# --- rate limits and concurrency caps ------------------------------------------------------

def _backend(container: Container) -> Any:
    state = _state(container)
    if state["backend"] is None:
        with state["lock"]:
            if state["backend"] is None:
                if container.settings.redis_url:
                    from dramatiq.rate_limits.backends import RedisBackend

                    state["backend"] = RedisBackend(url=container.settings.redis_url)
                else:
                    from dramatiq.rate_limits.backends import StubBackend

                    state["backend"] = StubBackend()
    return state["backend"]


def limiters(container: Container, tenant_id: str, provider: str, options: dict[str, Any]) -> tuple[Any, Any]:
    """(concurrency limiter, window limiter) for the tenant's provider, per current options."""
    from dramatiq.rate_limits import ConcurrentRateLimiter, WindowRateLimiter

    key = (tenant_id, provider, int(options["concurrency"]), int(options["rate_per_second"]))
    state = _state(container)
    found = state["limiters"].get(key)
    if found is None:
        backend = _backend(container)
        prefix = f"retaguarda:campaigns:{tenant_id}:{provider}"
        found = (ConcurrentRateLimiter(backend, f"{prefix}:concurrency", limit=key[2], ttl=120_000),
                 WindowRateLimiter(backend, f"{prefix}:rate", limit=key[3], window=1))
        state["limiters"][key] = found
    return found


def reserve(window: Any, count: int) -> bool:
    """Takes `count` slots of the window at once (one backend call instead of `count`: with many
    worker threads on one Redis key, Dramatiq's per-call WATCH/MULTI contends badly)."""
    def keys() -> list[str]:
        now = int(time.time())
        return [f"{window.key}@{now - i}" for i in range(window.window)]

    return bool(window.backend.incr_and_sum(keys()[0], keys, count, maximum=window.limit,
                                            ttl=window.window_millis))


def wait_for_slot(window: Any, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        with window.acquire(raise_on_failure=False) as acquired:
            if acquired:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(random.uniform(0.01, 0.05))


# --- enqueueing ----------------------------------------------------------------------------

def enqueue(container: Container, actor_name: str, *args: Any, delay_seconds: float = 0.0) -> None:
    options: dict[str, Any] = {}
    if delay_seconds > 0:
        options["delay"] = int(delay_seconds * 1000)
    container.broker.get_actor(actor_name).send_with_options(args=args, **options)


def delay_until(container: Container, at: datetime) -> float:
    remaining = (at - container.clock.now()).total_seconds()
    return max(0.0, min(remaining, tuning(container).max_delay_seconds))


def backoff_seconds(general: dict[str, Any], attempt: int) -> float:
    initial = float(general.get("backoff_initial_seconds", 2.0))
    cap = float(general.get("backoff_max_seconds", 60.0))
    return min(cap, initial * (2 ** max(0, attempt - 1)))

def quietly(command: Any, *args: Any, **kwargs: Any) -> Any:
    """A state change another worker already made (duplicate delivery) is not an error."""
    try:
        return command(*args, **kwargs)
    except ConflictError:
        return None


def uuid_of(value: str) -> Any:
    from uuid import UUID

    return UUID(str(value))


def read(container: Container, query: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs a projection query function (`query(conn, *args)`) on a fresh read connection: the use
    cases read the read models only through `projections.campaigns` query functions."""
    with container.engine.connect() as conn:
        return query(conn, *args, **kwargs)
