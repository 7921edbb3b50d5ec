"""Campaign reads: how a campaign went."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from consent.models import ConsentEvent
from tracking import links
from tracking.models import Click

from . import segments
from .models import Campaign, Message

Status = Message.Status
# Opt-outs within this long after a campaign launched are counted against it.
OPT_OUT_ATTRIBUTION = timedelta(days=3)


def campaign_measurement(*, campaign: Campaign) -> segments.Measurement:
    """How each message will be billed: with tracked links, measured on the body as recipients get it."""
    body = links.sample_tracked_body(campaign.body) if campaign.track_links else campaign.body
    return segments.measure(body, media_urls=campaign.media_urls)


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
