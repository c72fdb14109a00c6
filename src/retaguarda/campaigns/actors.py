"""Actors of the campaigns context: thin wrappers over `pipeline` (container and ids in, outcome out).

Provider errors are classified inside the send step (`pipeline._failed`): transient ones are
retried by re-sending the message with the tenant's backoff (honouring Retry-After) and the
attempt recorded on the message, permanent ones fail it at once. Dramatiq's own retries only
cover unexpected errors (a database hiccup); when they run out, the message is dead-lettered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.campaigns import pipeline
from retaguarda.campaigns.domain import PROVIDERS, TWO_STEP
from retaguarda.integrations import JobSpec, job

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

QUEUE = pipeline.QUEUE


@job(actor_name="campaigns.dispatch", queue_name=QUEUE, max_retries=5, min_backoff=1000,
     max_backoff=30_000, time_limit=300_000)
def dispatch(container: Container, campaign_id: str, batch: int = 0) -> str:
    """Fans batch `batch` of a campaign out into its provider's queue, then chains the next batch."""
    return pipeline.dispatch_batch(container, campaign_id, int(batch))


@job(actor_name="campaigns.finalize", queue_name=QUEUE, max_retries=5, min_backoff=1000, max_backoff=30_000)
def finalize(container: Container, campaign_id: str) -> str:
    """Completes a campaign when nothing is queued any more; re-sends stalled messages."""
    return pipeline.finalize(container, campaign_id)


@job(actor_name="campaigns.watchdog", queue_name=QUEUE, max_retries=0, time_limit=300_000)
def watchdog(container: Container) -> str:
    """Periodic (scheduler): re-checks every active campaign once."""
    return pipeline.watchdog(container)


@job(actor_name="campaigns.sweep_cancelled", queue_name=QUEUE, max_retries=5, time_limit=600_000)
def sweep_cancelled(container: Container, campaign_id: str, *_: Any) -> str:
    """Skips every still-queued message of a cancelled campaign."""
    return pipeline.sweep_cancelled(container, campaign_id)


@job(actor_name="campaigns.notify_wordpress", queue_name=QUEUE, max_retries=8, min_backoff=2000,
     max_backoff=60_000, on_give_up=pipeline.give_up_callback)
def notify_wordpress(container: Container, campaign_id: str, version: int, event_name: str) -> str:
    """Signed status callback to the tenant's WordPress site; retried with backoff, each try recorded."""
    return pipeline.notify_wordpress(container, campaign_id, int(version), event_name)


def _send_job(provider: str) -> JobSpec:
    def send(container: Container, message_ids: str | list[str]) -> str:
        return pipeline.send_message(container, message_ids)

    send.__name__ = f"send_{provider}"
    send.__doc__ = f"Sends one message or a chunk through {provider} (idempotent by message id)."
    return job(actor_name=pipeline.send_actor(provider), queue_name=provider, max_retries=3, min_backoff=1000,
               max_backoff=30_000, on_give_up=pipeline.give_up_message)(send)


def _two_step_jobs(provider: str) -> tuple[JobSpec, JobSpec]:
    def prepare(container: Container, campaign_id: str, batch: int) -> str:
        return pipeline.prepare_batch(container, campaign_id, int(batch))

    def start(container: Container, campaign_id: str) -> str:
        return pipeline.start_campaign(container, campaign_id)

    prepare.__name__, start.__name__ = f"prepare_{provider}", f"start_{provider}"
    # Transient provider errors propagate here, so Dramatiq retries with backoff (5 tries).
    options: dict[str, Any] = dict(queue_name=provider, max_retries=5, min_backoff=2000, max_backoff=60_000,
                                   time_limit=600_000, on_give_up=pipeline.give_up_two_step)
    return (job(actor_name=f"campaigns.prepare_{provider}", **options)(prepare),
            job(actor_name=f"campaigns.start_{provider}", **options)(start))


JOBS: tuple[JobSpec, ...] = (
    dispatch, finalize, watchdog, sweep_cancelled, notify_wordpress,
    *(_send_job(provider) for provider in PROVIDERS),
    *(spec for provider in TWO_STEP for spec in _two_step_jobs(provider)),
)
"""Every job of the context (one send job per provider, prepare/start per two-step provider)."""
