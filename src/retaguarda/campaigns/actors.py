"""Actors of the campaigns context: thin wrappers over `pipeline` (ids in, outcome out).

Provider errors are classified inside the send step (`pipeline._failed`): transient ones are
retried by re-sending the message with the tenant's backoff (honouring Retry-After) and the
attempt recorded on the message, permanent ones fail it at once. Dramatiq's own retries only
cover unexpected errors (a database hiccup); when they run out, the message is dead-lettered.
"""

from __future__ import annotations

from typing import Any

from retaguarda.campaigns import pipeline
from retaguarda.campaigns.domain import PROVIDERS, TWO_STEP
from retaguarda.integrations import job, runtime

QUEUE = pipeline.QUEUE


@job(actor_name="campaigns.dispatch", queue_name=QUEUE, max_retries=5, min_backoff=1000,
     max_backoff=30_000, time_limit=300_000)
def dispatch(campaign_id: str, batch: int = 0) -> str:
    """Fans batch `batch` of a campaign out into its provider's queue, then chains the next batch."""
    return pipeline.dispatch_batch(runtime.container(), campaign_id, int(batch))


@job(actor_name="campaigns.finalize", queue_name=QUEUE, max_retries=5, min_backoff=1000, max_backoff=30_000)
def finalize(campaign_id: str) -> str:
    """Completes a campaign when nothing is queued any more; re-sends stalled messages."""
    return pipeline.finalize(runtime.container(), campaign_id)


@job(actor_name="campaigns.watchdog", queue_name=QUEUE, max_retries=0, time_limit=300_000)
def watchdog() -> str:
    """Periodic (scheduler): re-checks every active campaign once."""
    return pipeline.watchdog(runtime.container())


@job(actor_name="campaigns.sweep_cancelled", queue_name=QUEUE, max_retries=5, time_limit=600_000)
def sweep_cancelled(campaign_id: str, *_: Any) -> str:
    """Skips every still-queued message of a cancelled campaign."""
    return pipeline.sweep_cancelled(runtime.container(), campaign_id)


@job(actor_name="campaigns.notify_wordpress", queue_name=QUEUE, max_retries=8, min_backoff=2000,
     max_backoff=60_000, on_give_up=pipeline.give_up_callback)
def notify_wordpress(campaign_id: str, version: int, event_name: str) -> str:
    """Signed status callback to the tenant's WordPress site; retried with backoff, each try recorded."""
    return pipeline.notify_wordpress(runtime.container(), campaign_id, int(version), event_name)


def _send_job(provider: str) -> None:
    def send(message_ids: str | list[str]) -> str:
        return pipeline.send_message(runtime.container(), message_ids)

    send.__name__ = f"send_{provider}"
    send.__doc__ = f"Sends one message or a chunk through {provider} (idempotent by message id)."
    job(actor_name=pipeline.send_actor(provider), queue_name=provider, max_retries=3, min_backoff=1000,
        max_backoff=30_000, on_give_up=pipeline.give_up_message)(send)


def _two_step_jobs(provider: str) -> None:
    def prepare(campaign_id: str, batch: int) -> str:
        return pipeline.prepare_batch(runtime.container(), campaign_id, int(batch))

    def start(campaign_id: str) -> str:
        return pipeline.start_campaign(runtime.container(), campaign_id)

    prepare.__name__, start.__name__ = f"prepare_{provider}", f"start_{provider}"
    # Transient provider errors propagate here, so Dramatiq retries with backoff (5 tries).
    job(actor_name=f"campaigns.prepare_{provider}", queue_name=provider, max_retries=5, min_backoff=2000,
        max_backoff=60_000, time_limit=600_000, on_give_up=pipeline.give_up_two_step)(prepare)
    job(actor_name=f"campaigns.start_{provider}", queue_name=provider, max_retries=5, min_backoff=2000,
        max_backoff=60_000, time_limit=600_000, on_give_up=pipeline.give_up_two_step)(start)


for _provider in PROVIDERS:
    _send_job(_provider)
for _provider in TWO_STEP:
    _two_step_jobs(_provider)
