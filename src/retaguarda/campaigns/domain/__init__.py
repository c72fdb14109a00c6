"""Campaigns: Campaign, CampaignMessage, RecipientBatch, OptOut, CampaignSettings. Pure: no I/O, no clock.

A campaign arrives from WordPress with its recipients (kept in `RecipientBatch` aggregates of at
most `BATCH_SIZE`, so the campaign itself stays small); the pipeline fans each batch out into
one `CampaignMessage` per recipient. Messages move `queued → sent → delivered`, or end `failed`
(with `dead` set when transient retries ran out: the dead-letter list) or `skipped`.

Split by aggregate into modules (common, campaign, message, settings); this package re-exports
every name the single module had, and keeps each aggregate's stored event topics
(`retaguarda.campaigns.domain:Class.Event`), so logs written before the split replay unchanged."""

from __future__ import annotations

from retaguarda.campaigns.domain.campaign import (
    Campaign,
    RecipientBatch,
)
from retaguarda.campaigns.domain.common import (
    BATCH_SIZE,
    CANCELLED,
    CREDENTIAL_PROVIDERS,
    KINDS,
    MAX_RECIPIENTS,
    MESSAGE_STATUSES,
    OPT_OUT_WORDS,
    PROVIDERS,
    STATUSES,
    TERMINAL,
    TWO_STEP,
    CampaignError,
    batch_id,
    clean_content,
    clean_email,
    clean_options,
    fold,
    is_opt_out_reply,
    message_id,
    optout_id,
    settings_id,
)
from retaguarda.campaigns.domain.message import (
    CampaignMessage,
    OptOut,
)
from retaguarda.campaigns.domain.settings import (
    DEFAULT_ATTEMPTS,
    DEFAULT_GENERAL,
    DEFAULT_PROVIDER,
    CampaignSettings,
    clean_general,
    clean_provider_options,
    default_provider_options,
)
from retaguarda.shared.topics import keep_topics

keep_topics("retaguarda.campaigns.domain", Campaign, RecipientBatch, CampaignMessage, OptOut, CampaignSettings)

__all__ = [
    "BATCH_SIZE",
    "CANCELLED",
    "CREDENTIAL_PROVIDERS",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_GENERAL",
    "DEFAULT_PROVIDER",
    "KINDS",
    "MAX_RECIPIENTS",
    "MESSAGE_STATUSES",
    "OPT_OUT_WORDS",
    "PROVIDERS",
    "STATUSES",
    "TERMINAL",
    "TWO_STEP",
    "Campaign",
    "CampaignError",
    "CampaignMessage",
    "CampaignSettings",
    "OptOut",
    "RecipientBatch",
    "batch_id",
    "clean_content",
    "clean_email",
    "clean_general",
    "clean_options",
    "clean_provider_options",
    "default_provider_options",
    "fold",
    "is_opt_out_reply",
    "message_id",
    "optout_id",
    "settings_id",
]
