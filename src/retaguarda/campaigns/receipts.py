"""Receipts use case: delivery receipts and replies posted by providers update messages (an RCS
expiry falls back to SMS, SAIR/PARE opts the phone out), and the signed status callbacks go to the
tenant's WordPress site."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from retaguarda.campaigns.domain import (
    TERMINAL,
    Campaign,
)
from retaguarda.campaigns.plumbing import (
    enqueue,
    general_options,
    provider_for,
    quietly,
    read,
    send_actor,
    tenant_settings,
    tuning,
    uuid_of,
)
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.campaigns")


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
        row = read(container, find_message_row, meta.tenant_id, message_id=receipt.get("message_id"),
                   provider_message_id=None if receipt.get("message_id") else receipt.get("provider_message_id"))
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
            quietly(container.campaigns.opt_out, meta, reply["phone"], "reply", str(reply["text"])[:100])
            counts["opted_out"] += 1
    return counts


# --- WordPress status callbacks ------------------------------------------------------------

CALLBACK_EVENTS = {
    "Received": "campaign.received", "DispatchStarted": "campaign.dispatching",
    "Scheduled": "campaign.scheduled", "Started": "campaign.started", "Finished": "campaign.completed",
    "Cancelled": "campaign.cancelled", "Failed": "campaign.failed",
}


def callback_body(container: Container, campaign: Campaign, event: str) -> dict[str, Any]:
    from projections.campaigns.campaign_progress import get_campaign_row

    row = read(container, get_campaign_row, campaign.tenant_id, str(campaign.id))
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

    campaign = container.campaigns.store.get(uuid_of(campaign_id), version=version)
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
