"""Watchdog use case: completion of a campaign once nothing is queued, re-sending stalled messages
and a lost fan-out chain (also periodically, for every active campaign), and skipping what a
cancelled campaign still had queued."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from retaguarda.campaigns.domain import CANCELLED
from retaguarda.campaigns.plumbing import (
    enqueue,
    forget_campaign,
    general_options,
    quietly,
    read,
    send_actor,
    system_meta,
    tenant_settings,
    tuning,
)

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.campaigns")


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
    row = read(container, get_campaign_row, None, campaign_id)
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
        stalled = read(container, stalled_queued, campaign_id, now - stall)
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

    active = read(container, active_campaigns)
    results = [finalize(container, c["id"], reschedule=False) for c in active
               if c["status"] in ("dispatching", "started")]
    return f"{len(results)} active campaigns checked"


def sweep_cancelled(container: Container, campaign_id: str) -> str:
    """After a cancel, every message not yet sent becomes skipped (the send jobs would too)."""
    from projections.campaigns.campaign_progress import queued_message_ids

    service = container.campaigns
    forget_campaign(container, campaign_id)
    ids = read(container, queued_message_ids, campaign_id)
    for message_id in ids:
        quietly(service.record_skipped, message_id, reason=CANCELLED)
    return f"{len(ids)} skipped"
