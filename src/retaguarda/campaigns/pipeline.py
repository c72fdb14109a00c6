"""The delivery pipeline behind the campaign actors: fan-out, per-message send, two-step providers,
completion, status callbacks. Every step is idempotent and re-checks the aggregate before calling a
provider, so a redelivered Dramatiq message (worker crash, duplicate) never sends twice.

Queues: `campaigns` (fan-out, completion, callbacks) and one per provider (`cda`, `gosac`, `noah`,
`rcs`, `salesforce`). Delays follow the container clock: a step due at `t` is re-checked after
`min(t - now, tuning.max_delay_seconds)` of real time, so tests with a fast clock see a 2- or
20-minute step in well under a second.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa
import structlog

from retaguarda.campaigns.domain import (
    CANCELLED,
    PROVIDERS,
    TERMINAL,
    Campaign,
    CampaignMessage,
    CampaignSettings,
)
from retaguarda.campaigns.quiet_hours import next_window
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


def _reserve(window: Any, count: int) -> bool:
    """Takes `count` slots of the window at once (one backend call instead of `count`: with many
    worker threads on one Redis key, Dramatiq's per-call WATCH/MULTI contends badly)."""
    def keys() -> list[str]:
        now = int(time.time())
        return [f"{window.key}@{now - i}" for i in range(window.window)]

    return bool(window.backend.incr_and_sum(keys()[0], keys, count, maximum=window.limit,
                                            ttl=window.window_millis))


def _wait_for_slot(window: Any, wait_seconds: float) -> bool:
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


# --- fan-out -------------------------------------------------------------------------------

def dispatch_batch(container: Container, campaign_id: str, batch: int) -> str:
    """Creates batch `batch`'s messages (once) and hands them to the provider queue; chains the next."""
    service = container.campaigns
    campaign = service.find_campaign(campaign_id)
    if campaign is None or campaign.is_terminal:
        return "nothing to do"
    meta = system_meta(container, campaign.tenant_id, campaign_id)
    now = meta.at
    if campaign.fanned_out == 0 and campaign.send_at is not None and campaign.send_at > now:
        if campaign.status != "scheduled":
            service.record_scheduled(meta, campaign_id, campaign.send_at, "send_at")
        enqueue(container, "campaigns.dispatch", campaign_id, batch,
                delay_seconds=delay_until(container, campaign.send_at))
        return f"waiting for send_at {campaign.send_at.isoformat()}"
    paged = bool(campaign.recipients_url) and campaign.recipient_count == 0
    if campaign.batch_count == 0 and not paged:
        service.record_campaign_failed(meta, campaign_id, "no recipients")
        return "no recipients"
    if batch >= campaign.batch_count and not (paged and not campaign.fan_out_done):
        return "past the last batch"
    stored = service.get_batch(campaign_id, batch)
    has_next = False
    if stored is None and paged:
        stored, has_next = fetch_recipient_page(container, campaign, batch)
        if stored is None:
            return "recipients page not available yet (retried)"
    elif paged and campaign.fan_out_done:
        has_next = batch + 1 < campaign.batch_count
    elif paged:
        has_next = bool(stored.recipients) and len(stored.recipients) >= tuning(container).batch_size
    if stored is None:
        service.record_campaign_failed(meta, campaign_id, f"recipients of batch {batch} are missing")
        return "missing batch"
    last = not has_next if paged else batch + 1 >= campaign.batch_count
    if batch >= campaign.fanned_out:
        phones = [p["phone"] for p in stored.recipients if p.get("phone")]
        opted_out = _opted_out(container, campaign.tenant_id, phones)
        campaign, messages = service.fan_out_batch(meta, campaign_id, batch, stored.recipients,
                                                   stored.first_index, opted_out, last)
        queued = [str(m.id) for m in messages if m.status == "queued"]
        if not messages and not campaign.is_terminal:  # lost a race with a duplicate: re-send all
            queued = service.message_ids(campaign_id, stored.first_index, len(stored.recipients))
    else:
        queued = service.message_ids(campaign_id, stored.first_index, len(stored.recipients))
    if campaign.is_terminal:
        return f"campaign {campaign.status}"
    forget_campaign(container, campaign_id)
    if campaign.two_step:
        enqueue(container, f"campaigns.prepare_{campaign.provider}", campaign_id, batch)
    else:
        actor = send_actor(campaign.provider)
        chunk = max(1, tuning(container).send_chunk)
        for start in range(0, len(queued), chunk):
            enqueue(container, actor, queued[start:start + chunk])
    if not last:
        enqueue(container, "campaigns.dispatch", campaign_id, batch + 1)
    else:
        enqueue(container, "campaigns.finalize", campaign_id,
                delay_seconds=tuning(container).finalize_every_seconds)
    return f"batch {batch}: {len(queued)} queued"


def fetch_recipient_page(container: Container, campaign: Campaign, batch: int) -> tuple[Any, bool]:
    """Pages through `recipients_url` (`?page=N&per_page=M` → `{"recipients": [...], "next": url|null}`)
    and stores the page as the batch's RecipientBatch. A recipient without phone or e-mail is
    kept as invalid (its message is skipped), never a reason to stop the campaign."""
    from retaguarda.campaigns.application import normalize_recipient
    from retaguarda.campaigns.domain import RecipientBatch
    from retaguarda.integrations.errors import TransientError
    from retaguarda.shared.errors import ValidationError

    size = tuning(container).batch_size
    try:
        response = httpx.get(str(campaign.recipients_url), params={"page": batch + 1, "per_page": size},
                             timeout=tuning(container).http_timeout)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TransientError(f"recipients page {batch + 1}: {type(exc).__name__}") from None
    items = data.get("recipients") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise TransientError(f"recipients page {batch + 1} has no recipients list")
    first = batch * size
    people = []
    for offset, raw in enumerate(items[:size]):
        try:
            people.append(normalize_recipient(first + offset, raw))
        except ValidationError as exc:
            people.append({"name": "", "consent": False, "attributes": {}, "phone": None, "email": None,
                           "invalid": exc.message, "raw": str(raw)[:40]})
    meta = system_meta(container, campaign.tenant_id, str(campaign.id))
    stored = RecipientBatch.store(meta, campaign.id, batch, first, people)
    from eventsourcing.persistence import IntegrityError

    try:
        container.campaigns.save(stored)
    except IntegrityError:  # a duplicate job stored it first
        stored = container.campaigns.get_batch(str(campaign.id), batch)
    return stored, bool(data.get("next")) and len(items) > 0


def _opted_out(container: Container, tenant_id: str, phones: list[str]) -> set[str]:
    from projections.campaigns.opt_outs import opted_out_among

    if not phones:
        return set()
    with container.engine.connect() as conn:
        return opted_out_among(conn, tenant_id, phones)


# --- one message ---------------------------------------------------------------------------

def outbound(campaign: Campaign, message: CampaignMessage) -> Any:
    from retaguarda.campaigns.providers import OutboundMessage

    to = message.to or ""
    is_phone = to.startswith("+")
    content = campaign.content or {}
    return OutboundMessage(
        message_id=str(message.id), campaign_id=str(campaign.id), external_campaign_id=campaign.external_id,
        tenant_id=campaign.tenant_id, to_phone=to if is_phone else None,
        to_email=None if is_phone else to, name=message.name or None, text=content.get("text") or "",
        media_url=content.get("media_url"), rich_card=content.get("rich_card"),
        attributes=dict(message.attributes or {}))


def send_message(container: Container, message_ids: str | list[str]) -> str:
    """Sends queued messages (one id, or a chunk from the fan-out), each exactly once as far as
    the provider's idempotency key allows; the chunk's `Sent` events are saved in one commit."""
    from contextlib import ExitStack

    ids = [message_ids] if isinstance(message_ids, str) else list(message_ids)
    done: list[tuple[CampaignMessage, tuple[Any, ...]]] = []
    outcomes: dict[str, int] = {}
    with ExitStack() as slots:  # a job calls its provider one message at a time: one slot per job
        held: dict[Any, Any] = {"left": len(ids)}
        for message_id in ids:
            held["left"] -= 1
            outcome = _send(container, message_id, done, slots, held)
            key = outcome.split(" (")[0].split(":")[0]
            outcomes[key] = outcomes.get(key, 0) + 1
    _save_sent(container, done)
    return ", ".join(f"{k}: {v}" for k, v in outcomes.items())


def _save_sent(container: Container, done: list[tuple[CampaignMessage, tuple[Any, ...]]]) -> None:
    """One atomic save for the chunk; if another worker touched one of them meanwhile (a duplicate
    delivery), record each on its own (the loser sees the message already sent)."""
    from eventsourcing.persistence import IntegrityError

    if not done:
        return
    try:
        container.campaigns.save(*[message for message, _ in done])
    except IntegrityError:
        for message, event in done:
            _quietly(container.campaigns.record_sent, str(message.id), provider_message_id=event[0],
                     channel=event[1], attempt=event[2], fallback_reason=event[3])


def _send(container: Container, message_id: str, done: list[tuple[CampaignMessage, tuple[Any, ...]]],
          slots: Any, held: dict[Any, bool]) -> str:
    from retaguarda.campaigns.providers import ProviderError

    service = container.campaigns
    message = service.find_message(message_id)
    if message is None or not message.is_pending:
        return f"skipped ({'missing' if message is None else message.status})"
    campaign = cached_campaign(container, message.campaign_id)
    if campaign is None:
        return "campaign missing"
    if campaign.status == "cancelled":
        _quietly(service.record_skipped, message_id, reason=CANCELLED)
        return "cancelled"
    settings = tenant_settings(container, campaign.tenant_id)
    general = general_options(settings)
    now = container.clock.now()
    if message.retry_at is not None and message.retry_at > now + timedelta(milliseconds=50):
        enqueue(container, send_actor(campaign.provider), message_id,
                delay_seconds=delay_until(container, message.retry_at))
        return "waiting for its retry time"
    options = campaign.options or {}
    if options.get("kind", "marketing") == "marketing" and options.get("quiet_hours", True):
        opens = next_window(now, general["quiet_start"], general["quiet_end"], general["timezone"])
        if opens is not None:
            _quietly(service.record_deferred, message_id, until=opens, why="quiet hours")
            enqueue(container, send_actor(campaign.provider), message_id,
                    delay_seconds=delay_until(container, opens))
            return "deferred to the quiet-hours window"
    opts = provider_options(settings, campaign.provider)
    concurrency, window = limiters(container, campaign.tenant_id, campaign.provider, opts)
    slot_key = (campaign.tenant_id, campaign.provider)
    if slot_key not in held:
        held[slot_key] = bool(slots.enter_context(concurrency.acquire(raise_on_failure=False)))
    permits_key = ("permits",) + slot_key
    if held.get(permits_key, 0) <= 0 and held[slot_key]:
        wanted = min(held["left"] + 1, int(opts["rate_per_second"]))
        held[permits_key] = wanted if wanted > 1 and _reserve(window, wanted) else 0
    if held.get(permits_key, 0) > 0:
        held[permits_key] -= 1
    elif not held[slot_key] or not _wait_for_slot(window, tuning(container).limiter_wait_seconds):
        enqueue(container, send_actor(campaign.provider), message_id, delay_seconds=random.uniform(0.05, 0.3))
        return "rate limited: re-queued"
    provider = provider_for(container, campaign.tenant_id, campaign.provider,
                            sms_fallback=bool(options.get("sms_fallback", True)))
    msg = outbound(campaign, message)
    try:
        if message.force_channel == "sms" and hasattr(provider, "send_fallback"):
            result = provider.send_fallback(msg, message.reason or "ttl_expired")
        else:
            result = provider.send(msg)
    except ProviderError as exc:
        return _failed(container, campaign, message, exc, opts, general)
    meta = system_meta(container, message.tenant_id, message.campaign_id)
    args = (result.provider_message_id or "", result.channel, message.attempts + 1, result.fallback_reason or "")
    message.sent(meta, *args)
    done.append((message, args))
    return f"sent via {result.channel}"


def _failed(container: Container, campaign: Campaign, message: CampaignMessage, exc: Any,
            opts: dict[str, Any], general: dict[str, Any]) -> str:
    service = container.campaigns
    attempt = message.attempts + 1
    reason = str(exc)[:500]
    if exc.kind == "transient":
        if attempt >= int(opts["max_attempts"]):
            _quietly(service.record_message_failed, str(message.id), reason=reason, attempts=attempt, dead=True)
            log.warning("campaign_message_dead_lettered", provider=campaign.provider, attempts=attempt)
            return "dead-lettered"
        wait = max(float(exc.retry_after or 0), backoff_seconds(general, attempt))
        retry_at = container.clock.now() + timedelta(seconds=wait)
        _quietly(service.record_attempt_failed, str(message.id), attempt=attempt, error=reason,
                 retry_at=retry_at)
        enqueue(container, send_actor(campaign.provider), str(message.id),
                delay_seconds=delay_until(container, retry_at))
        return f"retry {attempt} in {wait:g}s"
    _quietly(service.record_message_failed, str(message.id), reason=reason, attempts=attempt, dead=False)
    return f"failed ({exc.kind})"


def _quietly(command: Any, *args: Any, **kwargs: Any) -> Any:
    """A state change another worker already made (duplicate delivery) is not an error."""
    try:
        return command(*args, **kwargs)
    except ConflictError:
        return None


def give_up_message(container: Container, message_ids: str | list[str], *, error: str, attempts: int) -> None:
    """Dramatiq gave up on a send job (an unexpected error, not a provider answer): every message
    of it still queued becomes a dead letter (visible, retryable)."""
    for message_id in [message_ids] if isinstance(message_ids, str) else message_ids:
        message = container.campaigns.find_message(message_id)
        if message is not None and message.is_pending:
            _quietly(container.campaigns.record_message_failed, message_id,
                     reason=f"internal error: {error}"[:500], attempts=attempts, dead=True)


# --- delivery receipts and replies ---------------------------------------------------------

def apply_receipts(container: Container, meta: Meta, provider_name: str, body: bytes,
                   headers: dict[str, str]) -> dict[str, int]:
    """Receipts posted by a provider (parsed by its own module) update messages idempotently; an
    RCS TTL expiry re-queues the message as SMS; replies saying SAIR/PARE opt the phone out."""
    from projections.campaigns.campaign_progress import find_message_row
    from retaguarda.campaigns.domain import is_opt_out_reply

    provider = provider_for(container, meta.tenant_id, provider_name)
    counts = {"updated": 0, "unchanged": 0, "unknown": 0, "fallback": 0, "opted_out": 0}
    for receipt in provider.parse_receipt(body, headers):
        with container.engine.connect() as conn:
            row = find_message_row(conn, meta.tenant_id, message_id=receipt.get("message_id"),
                                   provider_message_id=None if receipt.get("message_id") else
                                   receipt.get("provider_message_id"))
        if row is None:
            counts["unknown"] += 1
            continue
        outcome = container.campaigns.apply_receipt(meta, row["id"], receipt.get("status", ""),
                                                    str(receipt.get("reason") or ""), bool(receipt.get("fallback")))
        if outcome == "fallback":
            counts["fallback"] += 1
            enqueue(container, send_actor(row["provider"]), row["id"])
        counts["updated" if outcome in ("delivered", "failed", "fallback") else "unchanged"] += 1
    parse_inbound = getattr(provider, "parse_inbound", None)
    for reply in parse_inbound(body, headers) if parse_inbound else []:
        if reply.get("phone") and is_opt_out_reply(reply.get("text") or ""):
            _quietly(container.campaigns.opt_out, meta, reply["phone"], "reply", str(reply["text"])[:100])
            counts["opted_out"] += 1
    return counts


# --- two-step providers --------------------------------------------------------------------

def campaign_ref(campaign: Campaign) -> dict[str, Any]:
    content = campaign.content or {}
    return {"id": str(campaign.id), "external_id": campaign.external_id, "name": campaign.name,
            "text": content.get("text") or "", "media_url": content.get("media_url"),
            "send_at": campaign.send_at.isoformat() if campaign.send_at else None}


def prepare_batch(container: Container, campaign_id: str, batch: int) -> str:
    """Step 1 for one batch (contacts to the provider); after the last batch, schedules step 2."""
    service = container.campaigns
    campaign = service.find_campaign(campaign_id)
    if campaign is None or campaign.is_terminal:
        return "nothing to do"
    stored = service.get_batch(campaign_id, batch)
    if stored is None:
        return "missing batch"
    ids = service.message_ids(campaign_id, stored.first_index, len(stored.recipients))
    messages = [m for m in (service.find_message(i) for i in ids) if m is not None and m.is_pending]
    meta = system_meta(container, campaign.tenant_id, campaign_id)
    if messages and batch >= campaign.prepared:
        settings = tenant_settings(container, campaign.tenant_id)
        opts = provider_options(settings, campaign.provider)
        _, window = limiters(container, campaign.tenant_id, campaign.provider, opts)
        _wait_for_slot(window, tuning(container).limiter_wait_seconds)
        provider = provider_for(container, campaign.tenant_id, campaign.provider)
        refs = provider.prepare(campaign_ref(campaign), [outbound(campaign, m) for m in messages])
        rejected = dict(refs.pop("rejected", {}) or {})
        for message_id, reason in rejected.items():
            _quietly(service.record_message_failed, message_id, reason=f"rejected: {reason}"[:500],
                     attempts=1)
        campaign = service.record_prepared(meta, campaign_id, batch, refs).aggregate
    elif batch >= campaign.prepared:
        campaign = service.record_prepared(meta, campaign_id, batch, {}).aggregate
    if campaign.fan_out_done and campaign.prepared >= campaign.batch_count and campaign.status != "started":
        schedule_start(container, campaign)
    return f"batch {batch} prepared ({len(messages)} contacts)"


def step_delay(container: Container, provider_name: str, provider: Any) -> float:
    override = tuning(container).step_delay_seconds.get(provider_name)
    return float(override if override is not None else getattr(provider, "step_delay_seconds", 0.0))


def schedule_start(container: Container, campaign: Campaign) -> None:
    provider = provider_for(container, campaign.tenant_id, campaign.provider)
    meta = system_meta(container, campaign.tenant_id, str(campaign.id))
    start_at = campaign.start_at if campaign.status == "scheduled" and campaign.start_at else (
        meta.at + timedelta(seconds=step_delay(container, campaign.provider, provider)))
    options = campaign.options or {}
    if options.get("kind", "marketing") == "marketing" and options.get("quiet_hours", True):
        general = general_options(tenant_settings(container, campaign.tenant_id))
        opens = next_window(start_at, general["quiet_start"], general["quiet_end"], general["timezone"])
        start_at = opens or start_at
    if campaign.status != "scheduled" or campaign.start_at != start_at:
        container.campaigns.record_scheduled(meta, str(campaign.id), start_at, "step 2")
    enqueue(container, f"campaigns.start_{campaign.provider}", str(campaign.id),
            delay_seconds=delay_until(container, start_at))


def start_campaign(container: Container, campaign_id: str) -> str:
    """Step 2 (GOSAC PUT start, Salesforce send trigger); then every queued message is sent."""
    service = container.campaigns
    campaign = service.find_campaign(campaign_id)
    if campaign is None or campaign.is_terminal:
        return "nothing to do"
    if campaign.status not in ("scheduled", "started"):
        return f"not scheduled ({campaign.status})"
    if campaign.status == "scheduled" and campaign.start_at and campaign.start_at > container.clock.now():
        enqueue(container, f"campaigns.start_{campaign.provider}", campaign_id,
                delay_seconds=delay_until(container, campaign.start_at))
        return "not yet"
    meta = system_meta(container, campaign.tenant_id, campaign_id)
    provider = provider_for(container, campaign.tenant_id, campaign.provider)
    per_batch = campaign.provider == "salesforce"  # MC's send takes the recipients; GOSAC's PUT does not
    rejected: dict[str, str] = {}
    reference = campaign_id
    if not per_batch:
        refs = provider.start(campaign_ref(campaign), dict(campaign.refs))
        rejected = dict(refs.pop("rejected", {}) or {})
        refs.pop("accepted", None)
        reference = str(refs.get("provider_campaign_id") or campaign_id)
        service.record_started(meta, campaign_id, refs)
    else:
        service.record_started(meta, campaign_id, {"mode": "per batch"})
    sent = 0
    for batch in range(campaign.batch_count):
        stored = service.get_batch(campaign_id, batch)
        if stored is None:
            continue
        ids = service.message_ids(campaign_id, stored.first_index, len(stored.recipients))
        pending = [m for m in (service.find_message(i) for i in ids) if m is not None and m.is_pending]
        if per_batch and pending:
            result = provider.start(campaign_ref(campaign), dict(campaign.refs),
                                    messages=[outbound(campaign, m) for m in pending])
            rejected = dict(result.get("rejected") or {})
            reference = str(result.get("mode") or "salesforce")
        for message in pending:
            message_id = str(message.id)
            if message_id in rejected:
                _quietly(service.record_message_failed, message_id, reason=f"rejected: {rejected[message_id]}",
                         attempts=1)
                continue
            _quietly(service.record_sent, message_id, provider_message_id=f"{reference}:{message_id}",
                     channel="sms" if per_batch and (message.to or "").startswith("+") else campaign.provider,
                     attempt=1)
            sent += 1
    forget_campaign(container, campaign_id)
    enqueue(container, "campaigns.finalize", campaign_id, delay_seconds=tuning(container).finalize_every_seconds)
    return f"started: {sent} sent"


def give_up_two_step(container: Container, campaign_id: str, *args: Any, error: str, attempts: int) -> None:
    """Step 1 or 2 kept failing: the campaign's pending messages are dead letters."""
    service = container.campaigns
    campaign = service.find_campaign(campaign_id)
    if campaign is None:
        return
    for batch in range(campaign.fanned_out):
        stored = service.get_batch(campaign_id, batch)
        if stored is None:
            continue
        for message_id in service.message_ids(campaign_id, stored.first_index, len(stored.recipients)):
            message = service.find_message(message_id)
            if message is not None and message.is_pending:
                _quietly(service.record_message_failed, message_id, reason=error[:500], attempts=attempts,
                         dead=True)
    enqueue(container, "campaigns.finalize", campaign_id, delay_seconds=tuning(container).finalize_every_seconds)


# --- completion, stalls, cancellation ------------------------------------------------------

def finalize(container: Container, campaign_id: str, reschedule: bool = True) -> str:
    """Completes the campaign once no message is queued; re-sends stalled work; re-checks later
    (`reschedule`; the watchdog calls it once per active campaign, without)."""
    from projections.campaigns.campaign_progress import get_campaign_row, stalled_queued

    service = container.campaigns
    campaign = service.find_campaign(campaign_id)
    if campaign is None or campaign.is_terminal:
        return "nothing to do"
    every = tuning(container).finalize_every_seconds
    now = container.clock.now()
    general = general_options(tenant_settings(container, campaign.tenant_id))
    stall = timedelta(seconds=float(general.get("stall_seconds", 60)))
    with container.engine.connect() as conn:
        row = get_campaign_row(conn, None, campaign_id)
    if row is None or not campaign.fan_out_done or row["messages"] < campaign.created_messages:
        if row is not None and not campaign.fan_out_done and row["updated_at"] < now - stall:
            # the fan-out chain was lost with a worker: pick it up where the campaign says it is
            enqueue(container, "campaigns.dispatch", campaign_id, campaign.fanned_out)
        if reschedule:
            enqueue(container, "campaigns.finalize", campaign_id, delay_seconds=every)
        return "fan-out or read model not there yet"
    totals = row["totals"]
    if totals["queued"] == 0 and (not campaign.two_step or campaign.status == "started"
                                   or not (totals["sent"] + totals["delivered"])):
        meta = system_meta(container, campaign.tenant_id, campaign_id)
        service.record_finished(meta, campaign_id, dict(totals))
        forget_campaign(container, campaign_id)
        return "finished"
    if not campaign.two_step and row["updated_at"] < now - stall:
        with container.engine.connect() as conn:
            stalled = stalled_queued(conn, campaign_id, now - stall)
        for message_id in stalled:
            enqueue(container, send_actor(campaign.provider), message_id)
        if stalled:
            log.warning("campaign_stalled_resent", campaign_id=campaign_id, count=len(stalled))
    if reschedule:
        enqueue(container, "campaigns.finalize", campaign_id, delay_seconds=every)
    return f"{totals['queued']} still queued"


def watchdog(container: Container) -> str:
    """Periodic: checks every active campaign once (completion, stalled sends, a lost fan-out
    chain), so a campaign whose own re-check message died with a worker still finishes."""
    from projections.campaigns.campaign_progress import active_campaigns

    with container.engine.connect() as conn:
        active = active_campaigns(conn)
    results = [finalize(container, c["id"], reschedule=False) for c in active
               if c["status"] in ("dispatching", "started")]
    return f"{len(results)} active campaigns checked"


def sweep_cancelled(container: Container, campaign_id: str) -> str:
    """After a cancel, every message not yet sent becomes skipped (the send jobs would too)."""
    from projections.campaigns.campaign_progress import campaign_messages

    service = container.campaigns
    forget_campaign(container, campaign_id)
    m = campaign_messages
    with container.engine.connect() as conn:
        ids = [r.id for r in conn.execute(sa.select(m.c.id).where(m.c.campaign_id == campaign_id,
                                                                  m.c.status == "queued"))]
    for message_id in ids:
        _quietly(service.record_skipped, message_id, reason=CANCELLED)
    return f"{len(ids)} skipped"


# --- WordPress status callbacks ------------------------------------------------------------

CALLBACK_EVENTS = {
    "Received": "campaign.received", "DispatchStarted": "campaign.dispatching",
    "Scheduled": "campaign.scheduled", "Started": "campaign.started", "Finished": "campaign.completed",
    "Cancelled": "campaign.cancelled", "Failed": "campaign.failed",
}


def callback_body(container: Container, campaign: Campaign, event: str) -> dict[str, Any]:
    from projections.campaigns.campaign_progress import get_campaign_row

    with container.engine.connect() as conn:
        row = get_campaign_row(conn, campaign.tenant_id, str(campaign.id))
    totals = dict(campaign.totals) if campaign.status in TERMINAL and campaign.totals else (
        row["totals"] if row else {k: 0 for k in ("queued", "sent", "delivered", "failed", "skipped")})
    return {"event": event, "campaign_id": str(campaign.id), "external_id": campaign.external_id,
            "status": campaign.status, "totals": totals, "version": campaign.version,
            "at": campaign.modified_on.isoformat() if campaign.modified_on else None}


def notify_wordpress(container: Container, campaign_id: str, version: int, event_name: str) -> str:
    """POSTs the signed status callback for the campaign as of `version`; raises to be retried."""
    from retaguarda.campaigns.signing import signed_headers
    from retaguarda.campaigns.tables import record_callback
    from retaguarda.integrations.errors import TransientError
    from retaguarda.integrations.jobs import current_attempt

    campaign = container.campaigns.store.get(_uuid(campaign_id), version=version)
    settings = tenant_settings(container, campaign.tenant_id)
    general = general_options(settings)
    url = general.get("webhook_url") or ""
    event = CALLBACK_EVENTS.get(event_name, "campaign.status_changed")
    attempt = current_attempt()
    row = dict(tenant_id=campaign.tenant_id, campaign_id=campaign_id, event=event, status=campaign.status,
               url=url[:500], attempt=attempt, at=container.clock.now())
    if not url or not (settings and settings.webhook_secret):
        record_callback(container.engine, **row, outcome="not_configured", http_status=None, error="")
        return "no webhook configured"
    body = json.dumps(callback_body(container, campaign, event), separators=(",", ":")).encode()
    headers = signed_headers(body, settings.webhook_secret, now=container.clock.now())
    headers["X-Retaguarda-Event"] = event
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=tuning(container).http_timeout)
    except httpx.HTTPError as exc:
        record_callback(container.engine, **row, outcome="error", http_status=None, error=repr(exc)[:500])
        raise TransientError(f"webhook unreachable: {type(exc).__name__}") from None
    if response.is_success:
        record_callback(container.engine, **row, outcome="delivered", http_status=response.status_code, error="")
        return f"delivered {response.status_code}"
    record_callback(container.engine, **row, outcome="error", http_status=response.status_code,
                    error=response.text[:300])
    raise TransientError(f"webhook answered {response.status_code}")


def give_up_callback(container: Container, campaign_id: str, version: int, event_name: str, *, error: str,
                     attempts: int) -> None:
    from retaguarda.campaigns.tables import record_callback

    campaign = container.campaigns.find_campaign(campaign_id)
    if campaign is None:
        return
    record_callback(container.engine, tenant_id=campaign.tenant_id, campaign_id=campaign_id,
                    event=CALLBACK_EVENTS.get(event_name, "campaign.status_changed"), status=campaign.status,
                    url="", attempt=attempts, outcome="gave_up", http_status=None, error=error[:500],
                    at=container.clock.now())


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(str(value))


__all__ = ["PROVIDERS", "Tuning", "dispatch_batch", "finalize", "send_message", "tuning"]
