"""The confirmation before a campaign goes out: who gets it, how it is billed, what it may cost and who waits for
quiet hours — for "Send now" and for a schedule, on a fixed clock."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import Campaign
from consent.models import Suppression
from consent.services import suppression_add
from messaging.models import Message
from subscribers.models import Subscriber
from subscribers.services import subscriber_update
from tests.helpers import text_in

NEW_YORK, WASHINGTON, CALIFORNIA, HAWAII = "+12125550143", "+12025550143", "+13105550143", "+18085550143"
# 17:00 UTC on a winter weekday: 12:00 in New York, 09:00 in California — nobody is in quiet hours.
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
# 14:30 UTC: 09:30 in New York and Washington, 06:30 in California, 04:30 in Honolulu.
MORNING_NY = datetime(2026, 1, 14, 14, 30, tzinfo=UTC)
BODY = "Tony's Pizza: 2 for 1 pizza tonight! Reply STOP to cancel"


def subscribe(tenant, phone, tags=()):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=tenant.keyword.keyword)
    subscriber = Subscriber.objects.get(business=tenant.business, phone_number=phone)
    if tags:
        subscriber_update(subscriber=subscriber, tags=list(tags))
    return subscriber


def draft(tenant, body=BODY, **fields):
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name="Pizza night", body=body,
        sender_number=tenant.number, **fields,
    )  # fmt: skip


def launch_url(campaign):
    return reverse("dashboard:campaign-launch", args=[campaign.pk])


def summary(html):
    """The confirmation's facts as plain text, one line per fact."""
    block = re.search(r'<div class="card" id="launch-summary">(.*?)</dl>', html, re.S).group(1)
    text = re.sub(r"<(dt|li)>", "\n", block)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[ \t]+", " ", text.replace("&#x27;", "'").replace("&amp;", "&"))


@pytest.fixture
def audience(tenant_a):
    for phone in (NEW_YORK, WASHINGTON, CALIFORNIA):
        subscribe(tenant_a, phone)
    return tenant_a


def test_send_now_from_the_composer_shows_the_summary_before_anything_goes_out(client, audience):
    client.force_login(audience.admin.user)
    data = {
        "name": "Friday deal", "body": BODY, "media_urls": "", "sender_number": audience.number.pk,
        "audience": "all", "track_links": "on", "when": "now", "send_at": "", "action": "launch",
    }  # fmt: skip
    with time_machine.travel(NOON_NY, tick=False):
        response = client.post(reverse("dashboard:campaign-create"), data, follow=True)
    campaign = Campaign.objects.get()
    assert response.redirect_chain[-1][0] == launch_url(campaign)
    assert campaign.status == Campaign.Status.DRAFT and not campaign.messages.exists()
    html = response.content.decode()
    assert "Send “Friday deal”?" in html
    assert "Send it now" in html
    facts = summary(html)
    assert "Everyone who is subscribed" in facts
    assert "3 people" in facts
    assert "1 segment, GSM-7" in facts
    assert "Nobody is in quiet hours right now" in facts


def test_nobody_in_quiet_hours_at_noon(client, audience):
    preview = selectors.campaign_launch_preview(campaign=draft(audience), now=NOON_NY)
    assert (preview.recipients, preview.quiet_count, preview.quiet, preview.schedules) == (3, 0, [], False)


def test_part_of_the_audience_in_quiet_hours_is_told_when_it_gets_the_text(client, audience):
    subscribe(audience, HAWAII)
    campaign = draft(audience)
    client.force_login(audience.admin.user)
    with time_machine.travel(MORNING_NY, tick=False):
        html = client.get(launch_url(campaign)).content.decode()

    preview = selectors.campaign_launch_preview(campaign=campaign, now=MORNING_NY)
    assert preview.recipients == 4
    assert [(w.count, w.opens_at) for w in preview.quiet] == [
        (1, datetime(2026, 1, 14, 16, 0, tzinfo=UTC)),  # 08:00 in California
        (1, datetime(2026, 1, 14, 18, 0, tzinfo=UTC)),  # 08:00 in Honolulu
    ]
    facts = summary(html)
    assert "2 of them are in quiet hours right now" in facts
    # When they get it, on the business's clock (New York).
    assert "1 at Wednesday, Jan 14, 11:00 AM EST" in facts
    assert "1 at Wednesday, Jan 14, 1:00 PM EST" in facts


def test_the_count_leaves_out_the_do_not_text_list_and_the_frequency_cap_and_follows_the_tags(client, tenant_a):
    for phone in (NEW_YORK, WASHINGTON, CALIFORNIA):
        subscribe(tenant_a, phone, tags=["vip"])
    subscribe(tenant_a, HAWAII)  # not tagged
    tenant_a.business.marketing_messages_per_day = 1
    tenant_a.business.save()
    suppression_add(business=tenant_a.business, phone=WASHINGTON, reason=Suppression.Reason.CARRIER)
    earlier = draft(tenant_a)
    with time_machine.travel(NOON_NY, tick=False):
        # Today's one marketing text for California, and a price the carrier reported for it (2 parts, $0.0080).
        Message.objects.create(
            business=tenant_a.business, direction="outbound", kind="marketing", sender_number=tenant_a.number,
            phone_number=CALIFORNIA, phone_hash=Subscriber.objects.get(phone_number=CALIFORNIA).phone_hash,
            body="x", status="delivered", campaign=earlier, parts=2, cost=Decimal("0.0080"), cost_currency="USD",
        )  # fmt: skip
    body = "Tony's Pizza: olá! " + "2 for 1 pizza tonight, all night long, " * 2 + "Reply STOP to cancel"
    campaign = draft(tenant_a, body=body, tags=["vip"])
    client.force_login(tenant_a.owner.user)
    with time_machine.travel(NOON_NY, tick=False):
        html = client.get(launch_url(campaign)).content.decode()

    preview = selectors.campaign_launch_preview(campaign=campaign, now=NOON_NY)
    assert (preview.matched, preview.suppressed, preview.capped, preview.recipients) == (3, 1, 1, 1)
    assert (preview.measurement.encoding, preview.measurement.segments) == ("UCS-2", 2)
    assert preview.price_per_segment == Decimal("0.0040")
    assert (preview.segments, preview.estimated_cost) == (2, Decimal("0.01"))
    facts = summary(html)
    assert "Subscribers tagged vip" in facts
    assert "1 person" in facts
    assert "1 on the do-not-text list, 1 already had today’s limit of 1 text" in facts
    assert "2 segments, UCS-2 because of ‘á’" in facts
    assert "2 segments (1 × 2) × $0.0040 = $0.01" in facts
    assert "Uses 2 of the 1000 segments left this month on the Free plan" in facts


def test_without_a_reported_price_the_cost_is_given_in_segments(client, audience):
    client.force_login(audience.admin.user)
    with time_machine.travel(NOON_NY, tick=False):
        facts = summary(client.get(launch_url(draft(audience))).content.decode())
    assert "3 segments (3 × 1); no price yet" in facts


def test_more_segments_than_the_plan_has_left_is_said_before_sending(client, audience, settings):
    settings.BILLING_QUOTAS_ENFORCED = True
    client.force_login(audience.admin.user)
    long_body = "Tony's Pizza: " + "x" * 1500 + " Reply STOP to cancel"
    from accounts.models import SegmentUsage

    with time_machine.travel(NOON_NY, tick=False):
        SegmentUsage.objects.create(
            business=audience.business, period_start=datetime(2026, 1, 1, tzinfo=UTC),
            period_end=datetime(2026, 2, 1, tzinfo=UTC), segments=990,
        )  # fmt: skip
        facts = summary(client.get(launch_url(draft(audience, body=long_body))).content.decode())
    assert "More than the 10 segments left this month on the Free plan: upgrade the plan" in facts


def test_a_schedule_gets_the_same_summary_with_quiet_hours_at_its_time(client, audience):
    # 03:00 UTC on Jan 15, 2030: 22:00 on the 14th in New York and Washington (quiet), 19:00 in California.
    campaign = draft(audience, send_at=datetime(2030, 1, 15, 3, 0, tzinfo=UTC))
    client.force_login(audience.admin.user)
    with time_machine.travel(NOON_NY, tick=False):
        html = client.get(launch_url(campaign)).content.decode()
        with TestCase.captureOnCommitCallbacks(execute=False):
            client.post(launch_url(campaign))
    assert "Schedule “Pizza night”?" in html and "Schedule it" in html
    facts = summary(html)
    assert "Monday, Jan 14, 2030 10:00 PM EST" in facts
    assert "2 of them are in quiet hours at that time" in facts
    assert "2 at Tuesday, Jan 15, 8:00 AM EST" in facts
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def test_a_campaign_that_went_out_has_no_confirmation_page(client, audience):
    campaign = draft(audience)
    with time_machine.travel(NOON_NY, tick=False), TestCase.captureOnCommitCallbacks(execute=False):
        services.campaign_launch(campaign=campaign, now=NOON_NY)
    client.force_login(audience.admin.user)
    response = client.get(launch_url(campaign), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:campaign", args=[campaign.pk])
    assert "only a draft is sent" in response.content.decode()


def test_a_member_sees_no_confirmation_and_another_business_none_at_all(client, tenant_a, tenant_b):
    mine, theirs = draft(tenant_a), draft(tenant_b)
    client.force_login(tenant_a.member.user)
    assert client.get(launch_url(mine)).status_code == 403
    client.force_login(tenant_a.owner.user)
    assert client.get(launch_url(theirs)).status_code == 404
    assert client.post(launch_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.DRAFT
