"""Campaigns: WordPress campaigns delivered through CDA, GOSAC, NOAH, RCS (SMS fallback) and Salesforce MC."""

from retaguarda.campaigns.application import Campaigns
from retaguarda.campaigns.domain import Campaign, CampaignMessage, CampaignSettings, OptOut, RecipientBatch

__all__ = ["Campaign", "CampaignMessage", "CampaignSettings", "Campaigns", "OptOut", "RecipientBatch"]
