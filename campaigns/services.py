"""Campaigns from draft to sent: drafts, launch, the audience frozen into messages (fan-out), cancel, completion.

Sending itself is messaging's (messaging/services.py): a launched campaign's messages are queued there, and
messaging says when some of them settled (messaging.signals.messages_settled) so that the campaign can be closed.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from accounts import billing
from messaging import services as sending
from messaging.models import Message
from messaging.services import MAX_BODY, MAX_MEDIA
from messaging.signals import Content
from nextalerts import quiet_hours
from tracking import links

from . import compliance
from .models import Campaign

logger = logging.getLogger(__name__)

Status = Message.Status


# --- Campaigns --------------------------------------------------------------------------------------------------------


def campaign_launch_checked(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """A person's "send" or "schedule" (dashboard and API): the text must first meet the sending rules, however it
    was written (by hand or drafted by AI); a draft that does not may be saved, never sent."""
    check = compliance.body_check(body=campaign.body, business=campaign.business, media_urls=campaign.media_urls or ())
    if check.problems:
        problems = " ".join(problem.message for problem in check.problems)
        raise ValidationError({"body": f"This text cannot be sent yet. {problems} Edit the draft, then send it."})
    return campaign_launch(campaign=campaign, now=now)


def campaign_launch(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Launch now, or schedule for send_at. Only a draft can be launched."""
    now = now or timezone.now()
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError({"status": f"Only a draft can be launched; this campaign is {campaign.status}."})
    if campaign.sender_number_id is None:
        raise ValidationError({"number": "Choose the number to send from before launching."})
    if not campaign.body.strip():
        raise ValidationError({"body": "The message text is empty."})
    _check_billing(campaign, now)
    if campaign.send_at and campaign.send_at > now:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).update(
            status=Campaign.Status.SCHEDULED, updated_at=now
        )
        campaign.refresh_from_db()
        from .tasks import launch_campaign

        transaction.on_commit(lambda: _safe(launch_campaign.apply_async, args=[campaign.pk], eta=campaign.send_at))
        return campaign
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).update(
        status=Campaign.Status.SENDING, updated_at=now
    )
    campaign.refresh_from_db()
    from .tasks import launch_campaign

    transaction.on_commit(lambda: _safe(launch_campaign.delay, campaign.pk))
    return campaign


def _check_billing(campaign: Campaign, now: datetime) -> None:
    """Refuse a launch while campaigns are paused for an overdue payment, or when the audience would need more
    segments than the plan has left this period (estimated: subscribed, not suppressed, × segments per text)."""
    from .selectors import campaign_audience_size, campaign_measurement

    business = campaign.business
    if billing.campaigns_paused(business, now):
        paused = billing.pause_date(business)
        raise ValidationError(
            {"__all__": f"Campaigns are paused since {paused:%B} {paused.day}, {paused.year} because a payment is "
                        "overdue. Update your card in Settings → Plan & usage to send again."}
        )  # fmt: skip
    if not billing.quotas_enforced():
        return
    per_text = max(1, campaign_measurement(campaign=campaign).segments)
    recipients = campaign_audience_size(business=business, tag_ids=campaign.tags.values_list("pk", flat=True))
    needed = recipients * per_text
    remaining = billing.segments_remaining(business, now)
    if needed > remaining:
        plan = billing.plan_for(business)
        _start, end = billing.usage_period(business, now)
        raise ValidationError(
            {"__all__": f"This campaign needs {needed:,} segments ({recipients:,} recipients × {per_text} "
                        f"segment{'s' if per_text != 1 else ''}) but only {remaining:,} are left this month on the "
                        f"{plan.name} plan; upgrade or wait until {end:%B} {end.day}, {end.year}."}
        )  # fmt: skip


def _safe(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except Exception:
        logger.exception("campaigns.queue.failed")


def campaigns_launch_due(*, now: datetime | None = None) -> dict:
    """Scheduled campaigns whose time has come (the beat-driven backstop to the eta task)."""
    now = now or timezone.now()
    ids = list(Campaign.objects.filter(status=Campaign.Status.SCHEDULED, send_at__lte=now).values_list("pk", flat=True))
    for campaign_id in ids:
        campaign_fan_out(campaign_id=campaign_id, now=now)
    # Campaigns whose launch task was lost after they were set to sending.
    for campaign_id in Campaign.objects.filter(
        status=Campaign.Status.SENDING, launched_at__isnull=True, updated_at__lt=now - sending.stale_after()
    ).values_list("pk", flat=True):
        campaign_fan_out(campaign_id=campaign_id, now=now)
    return {"launched": len(ids)}


def _adapt(value):
    return connection.ops.adapt_datetimefield_value(value)


def campaign_fan_out(*, campaign_id: int, now: datetime | None = None) -> Campaign | None:
    """Freeze the audience: one queued Message per subscriber who is subscribed, not suppressed and under the
    frequency cap right now, written by the database in one INSERT ... SELECT; then queue the ones that are due.

    Idempotent: a campaign's audience is frozen once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.launched_at is not None:
            return campaign
        if campaign.status == Campaign.Status.SCHEDULED and campaign.send_at and campaign.send_at <= now:
            campaign.status = Campaign.Status.SENDING
        if campaign.status != Campaign.Status.SENDING:
            return campaign
        business = campaign.business
        number = campaign.sender_number
        if number is None or number.business_id != business.pk:
            campaign.status, campaign.status_detail = Campaign.Status.FAILED, "the sender number was removed"
            campaign.save(update_fields=["status", "status_detail", "updated_at"])
            return campaign

        tag_ids = list(campaign.tags.values_list("pk", flat=True))
        audience_sql, audience_params = _audience_sql(business.pk, tag_ids)
        suppressed = (
            "EXISTS (SELECT 1 FROM consent_suppression x WHERE x.business_id = s.business_id "
            "AND x.phone_hash = s.phone_hash)"
        )
        # The frequency cap as one set (the numbers at their cap, from the business's marketing texts of the last 24
        # hours) that the audience is anti-joined with, rather than a count per subscriber: a single pass whatever
        # the table's statistics say. (A per-row subquery planned on statistics of an emptier table, as for a
        # business's first launch, turns the fan-out quadratic.)
        cap = business.marketing_messages_per_day
        capped_cte = (
            "WITH capped AS (SELECT m.phone_hash FROM campaigns_message m WHERE m.business_id = %s "
            "AND m.kind = 'marketing' AND m.created_at >= %s AND m.status NOT IN ('blocked', 'cancelled', 'failed') "
            "GROUP BY m.phone_hash HAVING COUNT(*) >= %s) "
        )
        cap_params = [business.pk, _adapt(now - timedelta(hours=24)), cap]
        capped = "EXISTS (SELECT 1 FROM capped c WHERE c.phone_hash = s.phone_hash)" if cap > 0 else "TRUE"

        with connection.cursor() as cursor:
            # The audience's size, its suppressed part and its places, in one pass over the subscribers.
            cursor.execute(
                f"SELECT s.quiet_profile, COUNT(*), SUM(CASE WHEN {suppressed} THEN 1 ELSE 0 END) {audience_sql} "
                "GROUP BY s.quiet_profile",
                audience_params,
            )
            by_profile = cursor.fetchall()
            audience_size = sum(row[1] for row in by_profile)
            skipped_suppressed = sum(row[2] or 0 for row in by_profile)

            # Quiet hours, per distinct place rather than per row: a CASE maps each profile to its send_after.
            cases, case_params = [], []
            for profile, _count, _suppressed in by_profile:
                key = profile or quiet_hours.fallback_profile(business.time_zone)
                wait_until = quiet_hours.next_send_time(key, now)
                if wait_until is not None:
                    cases.append("WHEN %s THEN %s")
                    case_params += [profile, _adapt(wait_until)]
            send_after = f"CASE s.quiet_profile {' '.join(cases)} ELSE NULL END" if cases else "NULL"

            cursor.execute(
                f"""
                INSERT INTO campaigns_message (
                    business_id, direction, kind, sender_number_id, phone_number, phone_hash, body, status,
                    campaign_id, send_after, dispatched_at, provider_message_id, error_code, error_detail, attempts,
                    cost_currency, created_at, updated_at
                )
                {capped_cte}
                SELECT s.business_id, 'outbound', 'marketing', %s, s.phone_number, s.phone_hash, %s, 'queued',
                       %s, {send_after}, NULL, '', '', '', 0, '', %s, %s
                {audience_sql} AND NOT {suppressed} AND NOT {capped}
                """,
                [*cap_params, number.pk, campaign.body, campaign.pk, *case_params, _adapt(now), _adapt(now),
                 *audience_params],
            )  # fmt: skip
            recipients = cursor.rowcount
        campaign.status = Campaign.Status.SENDING
        campaign.launched_at = now
        campaign.audience_size = audience_size or 0
        campaign.skipped_suppressed = skipped_suppressed or 0
        campaign.skipped_frequency = max(0, campaign.audience_size - campaign.skipped_suppressed - recipients)
        campaign.save()
        transaction.on_commit(lambda: campaign_dispatch(campaign_id=campaign.pk, now=now))
    logger.info("campaigns.launched", extra={"campaign_id": campaign.pk, "recipients": recipients})
    if recipients == 0:
        campaign_complete_if_done(campaign_id=campaign.pk)
    return campaign


def _analyze(cursor) -> None:
    """Refresh PostgreSQL's statistics of the message table (a sample, cheap even for a large table): without them,
    the queued rows a launch just wrote are planned as if they were not there."""
    if connection.vendor == "postgresql":
        cursor.execute("ANALYZE campaigns_message")


def _audience_sql(business_id: int, tag_ids: list[int]):
    sql = "FROM subscribers_subscriber s WHERE s.business_id = %s AND s.status = 'subscribed'"
    params: list = [business_id]
    if tag_ids:
        placeholders = ", ".join(["%s"] * len(tag_ids))
        sql += (
            " AND EXISTS (SELECT 1 FROM subscribers_subscriber_tags st "
            f"WHERE st.subscriber_id = s.id AND st.tag_id IN ({placeholders}))"
        )
        params += tag_ids
    return sql, params


# Messages a dispatch reads and marks at a time: what it holds in memory, whatever the audience.
DISPATCH_PAGE = 10_000


def campaign_dispatch(*, campaign_id: int, now: datetime | None = None) -> int:
    """Queue a launched campaign's due messages in batches, a page of ids at a time (ranges of the primary key:
    a launch's rows are written together), so that a campaign of any size is dispatched in constant memory."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        _analyze(cursor)  # the senders' claims are planned on the primary key, not on the new queued rows
    due = Message.objects.filter(campaign_id=campaign_id, status=Status.QUEUED, dispatched_at__isnull=True).filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now)
    )
    bounds = due.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return 0
    total = 0
    for low in range(bounds["first"], bounds["last"] + 1, DISPATCH_PAGE):
        page = due.filter(pk__gte=low, pk__lt=low + DISPATCH_PAGE)
        ids = list(page.order_by("id").values_list("pk", flat=True))
        if not ids:
            continue
        Message.objects.filter(pk__in=ids, dispatched_at__isnull=True).update(dispatched_at=now)
        for start in range(0, len(ids), sending.BATCH_SIZE):
            sending.messages_enqueue(ids[start : start + sending.BATCH_SIZE])
        total += len(ids)
    return total


def campaign_complete_if_done(*, campaign_id: int) -> bool:
    """A sending campaign is sent once none of its messages is queued or being handed over."""
    pending = Message.objects.filter(campaign_id=campaign_id, status__in=[Status.QUEUED, Status.SENDING])
    if pending.exists():
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING, launched_at__isnull=False).update(
            status=Campaign.Status.SENT, completed_at=timezone.now()
        )
    )


def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop what has not been handed to the provider yet; what was handed over stays as it is."""
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
        raise ValidationError({"status": f"A {campaign.status} campaign cannot be cancelled."})
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED, completed_at=timezone.now())
        Message.objects.filter(campaign=campaign, status=Status.QUEUED).update(
            status=Status.CANCELLED, updated_at=timezone.now()
        )
    campaign.refresh_from_db()
    return campaign


# --- Campaign drafts --------------------------------------------------------------------------------------------------


def _clean_campaign(*, business, fields):
    if "body" in fields:
        # A browser's CR LF line breaks would bill an extra character per line: a text has plain LF ones.
        body = (fields["body"] or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not body:
            raise ValidationError({"body": "Write the message text."})
        if len(body) > MAX_BODY:
            raise ValidationError({"body": f"The message is {len(body)} characters; the limit is {MAX_BODY}."})
        fields["body"] = body
    if "media_urls" in fields:
        urls = list(fields["media_urls"] or [])
        if len(urls) > MAX_MEDIA:
            raise ValidationError({"media_urls": f"At most {MAX_MEDIA} media files per message."})
        for url in urls:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError as exc:
                raise ValidationError(
                    {"media_urls": f"'{url}' is not a public http(s) URL the carrier can fetch."}
                ) from exc
        fields["media_urls"] = urls
    if "tags" in fields:
        from subscribers.models import Tag
        from subscribers.services import tag_names_normalize

        names = tag_names_normalize(fields["tags"])
        tags = list(Tag.objects.filter(business=business, name__in=names))
        unknown = sorted(set(names) - {t.name for t in tags})
        if unknown:
            raise ValidationError({"tags": f"No subscriber has the tag(s): {', '.join(unknown)}."})
        fields["tags"] = tags
    number = fields.get("sender_number")
    if number is not None and number.business_id != business.pk:
        raise ValidationError({"number": "No such number in your business."})
    return fields


def campaign_create(*, business, created_by=None, **fields) -> Campaign:
    fields = _clean_campaign(business=business, fields=fields)
    tags = fields.pop("tags", [])
    with transaction.atomic():
        campaign = Campaign.objects.create(business=business, created_by=created_by, **fields)
        campaign.tags.set(tags)
    return campaign


def campaign_update(*, instance: Campaign, **fields) -> Campaign:
    fields = _clean_campaign(business=instance.business, fields=fields)
    tags = fields.pop("tags", None)
    with transaction.atomic():
        # Re-read under a lock: a launch between loading the draft and saving it must not be undone.
        current = Campaign.objects.select_for_update().get(pk=instance.pk)
        if current.status != Campaign.Status.DRAFT:
            raise ValidationError({"status": f"Only a draft can be edited; this campaign is {current.status}."})
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
        if tags is not None:
            current.tags.set(tags)
    return current


def campaign_delete(*, instance: Campaign) -> None:
    with transaction.atomic():
        current = Campaign.objects.select_for_update().get(pk=instance.pk)
        if current.status != Campaign.Status.DRAFT:
            raise ValidationError(
                {"status": f"Only a draft can be deleted; cancel a {current.status} campaign instead."}
            )
        current.delete()


# --- What messaging asks and tells (wired in apps.py) -----------------------------------------------------------------


def campaign_message_content(message: Message) -> Content | None:
    """A campaign's text as it goes out: its links rewritten for this message (from the campaign's own body, so a
    retry gets the same links) and its pictures. None for a message of no campaign."""
    campaign = message.campaign
    if campaign is None:
        return None
    body = links.tracked_body(campaign.body, message.pk) if campaign.track_links else message.body
    return Content(body=body, media_urls=tuple(campaign.media_urls or ()))


def campaigns_settled(*, campaign_ids, **_signal) -> None:
    for campaign_id in campaign_ids:
        campaign_complete_if_done(campaign_id=campaign_id)
