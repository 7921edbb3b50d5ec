"""Campaign reads: how a campaign went, how a body will be billed, and who it would reach."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import billing
from consent.models import ConsentEvent, Suppression
from messaging import segments
from messaging.models import Message
from nextalerts import quiet_hours
from subscribers.models import Subscriber
from tracking import links
from tracking.models import Click

from .models import Campaign

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
    opt_outs = campaign_opt_outs(campaigns=campaigns)
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


def campaign_opt_outs(*, campaigns: Iterable[Campaign]) -> dict[int, int]:
    """Recipients of each launched campaign who opted out within OPT_OUT_ATTRIBUTION of its launch, in one query.

    It starts from the opt-out events (few) and looks each one up among the campaigns' messages by the
    (business, phone_hash) index: starting from the messages (100,000 for a big campaign) took seconds.
    """
    launched = [c for c in campaigns if c.launched_at is not None]
    if not launched:
        return {}
    business_ids = sorted({c.business_id for c in launched})
    adapt = connection.ops.adapt_datetimefield_value
    windows, params = [], []
    for c in launched:
        windows.append("(m.campaign_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s)")
        params += [c.pk, adapt(c.launched_at), adapt(c.launched_at + OPT_OUT_ATTRIBUTION)]
    first = adapt(min(c.launched_at for c in launched))
    last = adapt(max(c.launched_at for c in launched) + OPT_OUT_ATTRIBUTION)
    event, message = ConsentEvent._meta.db_table, Message._meta.db_table
    sql = (
        f"SELECT m.campaign_id, COUNT(DISTINCT e.phone_hash) FROM {event} e "
        f"JOIN {message} m ON m.business_id = e.business_id AND m.phone_hash = e.phone_hash "
        f"WHERE e.business_id IN ({', '.join(['%s'] * len(business_ids))}) AND e.kind = %s "
        f"AND e.occurred_at >= %s AND e.occurred_at < %s AND ({' OR '.join(windows)}) "
        "GROUP BY m.campaign_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*business_ids, ConsentEvent.Kind.OPT_OUT, first, last, *params])
        return dict(cursor.fetchall())


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
    opt_outs = campaign_opt_outs(campaigns=[campaign]).get(campaign.pk, 0)
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


# --- What a launch will do ----------------------------------------------------------------------------------------

# The figures a cost estimate is drawn from: the carrier's reported prices for this business's recent texts.
PRICE_HISTORY = timedelta(days=90)
# Statuses that do not count towards the frequency cap (as in services.campaign_fan_out).
UNCAPPED_STATUSES = [Status.BLOCKED, Status.CANCELLED, Status.FAILED]


@dataclass(frozen=True)
class QuietWait:
    count: int
    opens_at: datetime  # aware: when the window opens for them (templates show it in the business's zone)


@dataclass(frozen=True)
class LaunchPreview:
    """What pressing "send" or "schedule" will do, as far as it can be known before the audience is frozen."""

    at: datetime  # the moment the audience is counted and quiet hours evaluated: now, or the scheduled time
    schedules: bool
    tags: list[str]  # the audience's tags; empty: everyone subscribed
    matched: int  # subscribed (and tagged)
    suppressed: int  # of those, on the do-not-text list
    capped: int  # of the rest, already at the day's limit of marketing texts
    recipients: int
    measurement: segments.Measurement
    segments: int  # recipients × segments per text
    price_per_segment: Decimal | None  # the average the carrier reported lately; None before any report
    estimated_cost: Decimal | None
    quiet: list[QuietWait]  # recipients in quiet hours at `at`, by when their window opens, earliest first
    segments_remaining: int | None  # left on the plan this period; None when quotas are not enforced
    plan_name: str

    @property
    def quiet_count(self) -> int:
        return sum(wait.count for wait in self.quiet)

    @property
    def over_quota(self) -> bool:
        return self.segments_remaining is not None and self.segments > self.segments_remaining


def segment_price(*, business, now: datetime | None = None) -> Decimal | None:
    """What one segment has cost this business lately: the carrier's reported costs over the parts they were for,
    across its outbound texts of the last PRICE_HISTORY. None until the carrier has reported a price."""
    now = now or timezone.now()
    totals = Message.objects.filter(
        business=business,
        direction=Message.Direction.OUTBOUND,
        cost__isnull=False,
        parts__gt=0,
        created_at__gte=now - PRICE_HISTORY,
    ).aggregate(cost=Sum("cost"), parts=Sum("parts"))
    if not totals["parts"] or totals["cost"] is None:
        return None
    return (totals["cost"] / totals["parts"]).quantize(Decimal("0.0001"))


def campaign_launch_preview(*, campaign: Campaign, now: datetime | None = None) -> LaunchPreview:
    """Who a launch would text and what it would cost, counted as campaign_fan_out() counts: subscribed (and tagged),
    not on the do-not-text list, under the frequency cap; and who of them would wait for quiet hours. A scheduled
    campaign is evaluated at its send_at (the audience as it is now)."""
    now = now or timezone.now()
    business = campaign.business
    schedules = bool(campaign.send_at and campaign.send_at > now)
    at = campaign.send_at if schedules else now
    tags = list(campaign.tags.all())

    audience = Subscriber.objects.filter(business=business, status=Subscriber.Status.SUBSCRIBED)
    if tags:
        tagged = Subscriber.tags.through.objects.filter(subscriber_id=OuterRef("pk"), tag_id__in=[t.pk for t in tags])
        audience = audience.filter(Exists(tagged))
    suppressed = Suppression.objects.filter(business_id=OuterRef("business_id"), phone_hash=OuterRef("phone_hash"))
    recent = (
        Message.objects.filter(
            business_id=OuterRef("business_id"),
            phone_hash=OuterRef("phone_hash"),
            kind=Message.Kind.MARKETING,
            created_at__gte=at - timedelta(hours=24),
        )
        .exclude(status__in=UNCAPPED_STATUSES)
        .order_by()
        .values("phone_hash")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        audience.annotate(
            is_suppressed=Exists(suppressed),
            recent=Coalesce(Subquery(recent, output_field=IntegerField()), 0),
        )
        .values("quiet_profile")
        .annotate(
            matched=Count("id"),
            suppressed=Count("id", filter=Q(is_suppressed=True)),
            recipients=Count("id", filter=Q(is_suppressed=False, recent__lt=business.marketing_messages_per_day)),
        )
        .order_by()
    )
    matched = suppressed_count = recipients = 0
    waits: dict[datetime, int] = {}
    for row in rows:
        matched += row["matched"]
        suppressed_count += row["suppressed"]
        recipients += row["recipients"]
        if row["recipients"]:
            key = row["quiet_profile"] or quiet_hours.fallback_profile(business.time_zone)
            opens_at = quiet_hours.next_send_time(key, at)
            if opens_at is not None:
                waits[opens_at] = waits.get(opens_at, 0) + row["recipients"]

    measurement = campaign_measurement(campaign=campaign)
    per_text = measurement.segments
    total = recipients * per_text
    price = segment_price(business=business, now=now)
    quota = billing.quotas_enforced()
    return LaunchPreview(
        at=at,
        schedules=schedules,
        tags=[tag.name for tag in tags],
        matched=matched,
        suppressed=suppressed_count,
        capped=matched - suppressed_count - recipients,
        recipients=recipients,
        measurement=measurement,
        segments=total,
        price_per_segment=price,
        estimated_cost=(price * total).quantize(Decimal("0.01")) if price is not None else None,
        quiet=[QuietWait(count, opens_at) for opens_at, count in sorted(waits.items())],
        segments_remaining=billing.segments_remaining(business, now) if quota else None,
        plan_name=billing.plan_for(business).name,
    )


# --- Where a sending campaign is ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignProgress:
    """A launched campaign's texts that are not final yet, by what they wait for."""

    quiet_hours: int = 0  # queued until the recipient's window opens
    retrying: int = 0  # refused for now by the carrier (429, unreachable): queued until Retry-After
    payment: int = 0  # held while campaigns are paused for an overdue payment
    going_out: int = 0  # due now, or being handed over (or a hand-off in doubt, awaiting its report)

    @property
    def waiting(self) -> int:
        return self.quiet_hours + self.retrying + self.payment + self.going_out

    def describe(self) -> str:
        """e.g. "120 waiting for quiet hours to end, 3 going out now"; empty when nothing waits."""
        parts = []
        if self.quiet_hours:
            parts.append(f"{self.quiet_hours:,} waiting for quiet hours to end")
        if self.retrying:
            parts.append(f"{self.retrying:,} waiting to retry")
        if self.payment:
            parts.append(f"{self.payment:,} waiting for the overdue payment")
        if self.going_out:
            parts.append(f"{self.going_out:,} going out now")
        return ", ".join(parts)


def campaign_progress(*, campaigns: Iterable[Campaign], now: datetime | None = None) -> dict[int, CampaignProgress]:
    """For the sending campaigns among these, what their unfinished texts wait for: one grouped query."""
    now = now or timezone.now()
    ids = [c.pk for c in campaigns if c.status == Campaign.Status.SENDING]
    if not ids:
        return {}
    later = Q(status=Status.QUEUED, send_after__gt=now)
    paused = Message.BILLING_PAUSED_CODE
    rows = (
        Message.objects.filter(campaign_id__in=ids, status__in=[Status.QUEUED, Status.SENDING])
        .values("campaign_id")
        .annotate(
            quiet_hours=Count("id", filter=later & Q(error_code="")),
            payment=Count("id", filter=later & Q(error_code=paused)),
            retrying=Count("id", filter=later & ~Q(error_code__in=["", paused])),
            going_out=Count("id", filter=~later),
        )
        .order_by()
    )
    progress = dict.fromkeys(ids, CampaignProgress())
    for row in rows:
        campaign_id = row.pop("campaign_id")
        progress[campaign_id] = CampaignProgress(**row)
    return progress


def campaign_status_text(*, campaign: Campaign, progress: CampaignProgress | None = None) -> str:
    """The status as the dashboard says it: "Sending — 120 waiting for quiet hours to end" until every text is
    final, never "Sent" before."""
    if campaign.status != Campaign.Status.SENDING:
        return campaign.get_status_display()
    if campaign.launched_at is None:
        return "Sending — starting"
    detail = progress.describe() if progress is not None else ""
    return f"Sending — {detail}" if detail else "Sending"


def campaign_status_texts(*, campaigns: Iterable[Campaign], now: datetime | None = None) -> dict[int, str]:
    """campaign_status_text() for a page of campaigns, keyed by id."""
    campaigns = list(campaigns)
    progress = campaign_progress(campaigns=campaigns, now=now)
    return {c.pk: campaign_status_text(campaign=c, progress=progress.get(c.pk)) for c in campaigns}
