"""Reads for the pages that need several apps."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import Business
from campaigns.models import Campaign
from campaigns.selectors import CampaignSummary, campaign_status_texts, campaign_summaries


@dataclass(frozen=True)
class RecentCampaign:
    campaign: Campaign
    summary: CampaignSummary
    status_text: str  # "Sending — 120 waiting for quiet hours to end", as the campaigns list says it


def campaigns_recent_summary(
    *, business: Business, limit: int = 5, now: datetime | None = None
) -> list[RecentCampaign]:
    """The latest campaigns with the campaigns list's figures and status (campaigns.selectors)."""
    campaigns = list(Campaign.objects.filter(business=business).order_by("-id")[:limit])
    summaries = campaign_summaries(campaigns=campaigns)
    statuses = campaign_status_texts(campaigns=campaigns, now=now)
    return [RecentCampaign(campaign, summaries[campaign.pk], statuses[campaign.pk]) for campaign in campaigns]


def business_tracks_links(*, business: Business) -> bool:
    """Whether links in the business's texts are shortened and counted, for the pages where people opt in to say so:
    as its latest campaign does, and on (the default for a new campaign) before its first."""
    latest = Campaign.objects.filter(business=business).order_by("-id").values_list("track_links", flat=True).first()
    return True if latest is None else latest
