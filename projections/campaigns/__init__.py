"""Read models of the campaigns context."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.campaigns.campaign_progress import CampaignProgress
    from projections.campaigns.opt_outs import CampaignOptOuts

    return [CampaignProgress(), CampaignOptOuts()]
