"""Send use case: each queued message goes to its provider exactly once as far as the provider's
idempotency key allows (per-tenant rate limits and concurrency caps, quiet hours, transient →
backoff, permanent → failed, exhausted → dead letter); two-step providers (GOSAC, Salesforce)
prepare the batch, then start it after their delay."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.campaigns.domain import (
    CANCELLED,
    Campaign,
    CampaignMessage,
)
from retaguarda.campaigns.plumbing import (
    backoff_seconds,
    cached_campaign,
    delay_until,
    enqueue,
    forget_campaign,
    general_options,
    limiters,
    provider_for,
    provider_options,
    quietly,
    reserve,
    send_actor,
    system_meta,
    tenant_settings,
    tuning,
    wait_for_slot,
)
from retaguarda.campaigns.quiet_hours import next_window

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.campaigns")


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
            quietly(container.campaigns.record_sent, str(message.id), provider_message_id=event[0],
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
        quietly(service.record_skipped, message_id, reason=CANCELLED)
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
            quietly(service.record_deferred, message_id, until=opens, why="quiet hours")
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
        held[permits_key] = wanted if wanted > 1 and reserve(window, wanted) else 0
    if held.get(permits_key, 0) > 0:
        held[permits_key] -= 1
    elif not held[slot_key] or not wait_for_slot(window, tuning(container).limiter_wait_seconds):
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
            quietly(service.record_message_failed, str(message.id), reason=reason, attempts=attempt, dead=True)
            log.warning("campaign_message_dead_lettered", provider=campaign.provider, attempts=attempt)
            return "dead-lettered"
        wait = max(float(exc.retry_after or 0), backoff_seconds(general, attempt))
        retry_at = container.clock.now() + timedelta(seconds=wait)
        quietly(service.record_attempt_failed, str(message.id), attempt=attempt, error=reason,
                 retry_at=retry_at)
        enqueue(container, send_actor(campaign.provider), str(message.id),
                delay_seconds=delay_until(container, retry_at))
        return f"retry {attempt} in {wait:g}s"
    quietly(service.record_message_failed, str(message.id), reason=reason, attempts=attempt, dead=False)
    return f"failed ({exc.kind})"



def give_up_message(container: Container, message_ids: str | list[str], *, error: str, attempts: int) -> None:
    """Dramatiq gave up on a send job (an unexpected error, not a provider answer): every message
    of it still queued becomes a dead letter (visible, retryable)."""
    for message_id in [message_ids] if isinstance(message_ids, str) else message_ids:
        message = container.campaigns.find_message(message_id)
        if message is not None and message.is_pending:
            quietly(container.campaigns.record_message_failed, message_id,
                     reason=f"internal error: {error}"[:500], attempts=attempts, dead=True)


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
        wait_for_slot(window, tuning(container).limiter_wait_seconds)
        provider = provider_for(container, campaign.tenant_id, campaign.provider)
        refs = provider.prepare(campaign_ref(campaign), [outbound(campaign, m) for m in messages])
        rejected = dict(refs.pop("rejected", {}) or {})
        for message_id, reason in rejected.items():
            quietly(service.record_message_failed, message_id, reason=f"rejected: {reason}"[:500],
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
                quietly(service.record_message_failed, message_id, reason=f"rejected: {rejected[message_id]}",
                         attempts=1)
                continue
            quietly(service.record_sent, message_id, provider_message_id=f"{reference}:{message_id}",
                     channel="sms" if per_batch and (message.to or "").startswith("+") else campaign.provider,
                     attempt=1)
            sent += 1
    forget_campaign(container, campaign_id)
    enqueue(container, "campaigns.finalize", campaign_id,
            delay_seconds=tuning(container).finalize_every_seconds)
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
                quietly(service.record_message_failed, message_id, reason=error[:500], attempts=attempts,
                         dead=True)
    enqueue(container, "campaigns.finalize", campaign_id,
            delay_seconds=tuning(container).finalize_every_seconds)
