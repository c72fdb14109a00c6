"""Fan-out use case: a campaign's recipients become messages a batch at a time (paging through
`recipients_url` when the campaign has one) and go to the provider's queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import structlog

from retaguarda.campaigns.domain import (
    Campaign,
)
from retaguarda.campaigns.plumbing import (
    delay_until,
    enqueue,
    forget_campaign,
    read,
    send_actor,
    system_meta,
    tuning,
)

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.campaigns")


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
    return read(container, opted_out_among, tenant_id, phones)
