"""Campaign reads: how a campaign went, how a body will be billed, and who it would reach."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Sum, Value
from django.utils import timezone

from consent.models import ConsentEvent, Suppression
from subscribers.models import Subscriber
from tracking import links
from tracking.models import Click

from . import segments
from .models import Campaign, Message

Status = Message.Status
# Opt-outs within this long after a campaign launched are counted against it.
OPT_OUT_ATTRIBUTION = timedelta(days=3)
SENT_STATUSES = [Status.SENT, Status.DELIVERED, Status.DELIVERY_UNCONFIRMED]
FAILED_STATUSES = [Status.FAILED, Status.SENDING_FAILED, Status.DELIVERY_FAILED]


def campaign_measurement(*, campaign: Campaign) -> segments.Measurement:
    """How each message will be billed: with tracked links, measured on the body as recipients get it."""
    return body_measurement(body=campaign.body, track_links=campaign.track_links, media_urls=campaign.media_urls)


def body_measurement(*, body: str, track_links: bool = True, media_urls: Iterable[str] = ()) -> segments.Measurement:
    """A body being written, measured as campaign_measurement() will measure it once saved."""
    body = links.sample_tracked_body(body) if track_links else body
    return segments.measure(body, media_urls=media_urls)


def campaign_audience_size(*, business, tag_ids: Iterable[int] | None = None) -> int:
    """How many subscribers a campaign to these tags (none: everyone) would reach if it launched now: subscribed and
    not on the do-not-text list. The frequency cap is left out; launch counts it."""
    suppressed = Suppression.objects.filter(business_id=OuterRef("business_id"), phone_hash=OuterRef("phone_hash"))
    audience = Subscriber.objects.filter(business=business, status=Subscriber.Status.SUBSCRIBED).exclude(
        Exists(suppressed)
    )
    tag_ids = list(tag_ids or [])
    if tag_ids:
        tagged = Subscriber.tags.through.objects.filter(
            subscriber_id=OuterRef("pk"), tag_id__in=tag_ids, tag__business=business
        )
        audience = audience.filter(Exists(tagged))
    return audience.count()


def campaigns_for_list(*, business):
    """A business's campaigns, newest first, with what a list row shows about each."""
    return (
        Campaign.objects.filter(business=business)
        .select_related("sender_number")
        .prefetch_related("tags")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class CampaignSummary:
    recipients: int
    delivered: int
    delivery_rate: float | None  # delivered / texts handed over (arrived or failed); None before any
    click_through_rate: float | None  # people who clicked / texts sent; None before any
    opt_outs: int  # recipients who opted out within OPT_OUT_ATTRIBUTION of the launch


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def campaign_delivery_rate(stats: dict) -> float | None:
    """From campaign_stats(): of the texts handed to the carrier, the share that arrived."""
    return _rate(stats["delivered"], stats["sent"] + stats["failed"])


def campaign_summaries(*, campaigns: Iterable[Campaign]) -> dict[int, CampaignSummary]:
    """The list page's figures for a page of campaigns, keyed by id: three grouped queries however many campaigns,
    counted as campaign_stats() counts them."""
    ids = [campaign.pk for campaign in campaigns]
    if not ids:
        return {}
    counts = {
        row["campaign_id"]: row
        for row in Message.objects.filter(campaign_id__in=ids)
        .values("campaign_id")
        .annotate(
            recipients=Count("id"),
            sent=Count("id", filter=Q(status__in=SENT_STATUSES)),
            delivered=Count("id", filter=Q(status=Status.DELIVERED)),
            failed=Count("id", filter=Q(status__in=FAILED_STATUSES)),
        )
        .order_by()
    }
    clickers = dict(
        Click.objects.filter(campaign_id__in=ids, is_preview=False)
        .values("campaign_id")
        .annotate(n=Count("message", distinct=True))
        .order_by()
        .values_list("campaign_id", "n")
    )
    launched_at = OuterRef("campaign__launched_at")
    opted_out = ConsentEvent.objects.filter(
        business_id=OuterRef("business_id"),
        phone_hash=OuterRef("phone_hash"),
        kind=ConsentEvent.Kind.OPT_OUT,
        occurred_at__gte=launched_at,
        occurred_at__lt=ExpressionWrapper(launched_at + Value(OPT_OUT_ATTRIBUTION), output_field=DateTimeField()),
    )
    opt_outs = dict(
        Message.objects.filter(campaign_id__in=ids, campaign__launched_at__isnull=False)
        .filter(Exists(opted_out))
        .values("campaign_id")
        .annotate(n=Count("phone_hash", distinct=True))
        .order_by()
        .values_list("campaign_id", "n")
    )
    empty = {"recipients": 0, "sent": 0, "delivered": 0, "failed": 0}
    summaries = {}
    for campaign_id in ids:
        row = counts.get(campaign_id, empty)
        summaries[campaign_id] = CampaignSummary(
            recipients=row["recipients"],
            delivered=row["delivered"],
            delivery_rate=_rate(row["delivered"], row["sent"] + row["failed"]),
            click_through_rate=_rate(clickers.get(campaign_id, 0), row["sent"]),
            opt_outs=opt_outs.get(campaign_id, 0),
        )
    return summaries


def campaign_stats(*, campaign: Campaign, now=None) -> dict:
    now = now or timezone.now()
    rows = Message.objects.filter(campaign=campaign)
    counts = rows.aggregate(
        recipients=Count("id"),
        queued=Count("id", filter=Q(status=Status.QUEUED)),
        waiting_quiet_hours=Count("id", filter=Q(status=Status.QUEUED, send_after__gt=now, error_code="")),
        sending=Count("id", filter=Q(status=Status.SENDING)),
        sent=Count("id", filter=Q(status__in=[Status.SENT, Status.DELIVERED, Status.DELIVERY_UNCONFIRMED])),
        delivered=Count("id", filter=Q(status=Status.DELIVERED)),
        failed=Count("id", filter=Q(status__in=[Status.FAILED, Status.SENDING_FAILED, Status.DELIVERY_FAILED])),
        blocked=Count("id", filter=Q(status=Status.BLOCKED)),
        cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
        cost=Sum("cost"),
    )
    opt_outs = 0
    if campaign.launched_at:
        opt_outs = (
            ConsentEvent.objects.filter(
                business_id=campaign.business_id,
                kind=ConsentEvent.Kind.OPT_OUT,
                occurred_at__gte=campaign.launched_at,
                occurred_at__lt=campaign.launched_at + OPT_OUT_ATTRIBUTION,
                phone_hash__in=rows.values("phone_hash"),
            )
            .values("phone_hash")
            .distinct()
            .count()
        )
    measurement = campaign_measurement(campaign=campaign)
    clicks = Click.objects.filter(campaign=campaign, is_preview=False).aggregate(
        clicks=Count("id"), unique_clickers=Count("message", distinct=True)
    )
    return {
        **clicks,
        "click_through_rate": round(clicks["unique_clickers"] / counts["sent"], 4) if counts["sent"] else None,
        "previews": Click.objects.filter(campaign=campaign, is_preview=True).count(),
        **{k: v for k, v in counts.items() if k != "cost"},
        "skipped_suppressed": campaign.skipped_suppressed,
        "skipped_frequency": campaign.skipped_frequency,
        "opt_outs": opt_outs,
        "segments_per_message": measurement.segments,
        "segments": measurement.segments * counts["recipients"],
        "cost": str(counts["cost"]) if counts["cost"] is not None else None,
    }
