"""The delivery pipeline behind the campaign actors, one module per use case:

- `fanout`: recipients → messages, a batch at a time, into the provider's queue;
- `send`: one message (or a chunk) to its provider, two-step providers' prepare/start;
- `receipts`: delivery receipts and replies in, signed WordPress status callbacks out;
- `watchdog`: completion, stalled sends, a lost fan-out chain, cancelled campaigns;
- `plumbing`: what they share (tuning, caches, provider clients, rate limits, enqueueing).

Every step is idempotent and re-checks the aggregate (through the `Campaigns` service) before
calling a provider, so a redelivered Dramatiq message (worker crash, duplicate) never sends twice;
read models are read only through `projections.campaigns` query functions. Queues: `campaigns`
(fan-out, completion, callbacks) and one per provider (`cda`, `gosac`, `noah`, `rcs`,
`salesforce`). This module keeps the names other modules import from it.
"""

from __future__ import annotations

from retaguarda.campaigns.domain import PROVIDERS
from retaguarda.campaigns.fanout import dispatch_batch, fetch_recipient_page
from retaguarda.campaigns.plumbing import (
    QUEUE,
    PipelineState,
    Tuning,
    close_providers,
    enqueue,
    forget_campaign,
    forget_settings,
    new_state,
    provider_for,
    send_actor,
    tuning,
)
from retaguarda.campaigns.receipts import apply_receipts, give_up_callback, notify_wordpress
from retaguarda.campaigns.send import (
    give_up_message,
    give_up_two_step,
    prepare_batch,
    send_message,
    start_campaign,
)
from retaguarda.campaigns.watchdog import finalize, sweep_cancelled, watchdog

__all__ = [
    "PROVIDERS", "QUEUE", "PipelineState", "Tuning", "apply_receipts", "close_providers", "dispatch_batch",
    "enqueue", "fetch_recipient_page", "finalize", "forget_campaign", "forget_settings", "give_up_callback",
    "give_up_message", "give_up_two_step", "new_state", "notify_wordpress", "prepare_batch", "provider_for",
    "send_actor", "send_message", "start_campaign", "sweep_cancelled", "tuning", "watchdog",
]
