"""A campaign is "Sent" only once every one of its texts is final. Until then the campaigns list, its page, the
overview and the API all say "Sending" and what the texts wait for: quiet hours, a retry, a payment, or the hand-off."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import Campaign
from messaging import services as messaging_services
from messaging.backends import locmem
from messaging.models import Message
from subscribers.models import Subscriber
from tests.helpers import api_client, launch_campaign, send_due, text_in

NEW_YORK, WASHINGTON, CALIFORNIA = "+12125550143", "+12025550143", "+13105550143"
# 03:30 UTC: 22:30 in New York and Washington (quiet), 19:30 in California.
NIGHT = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)
MORNING = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 in New York
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)


@pytest.fixture
def audience(tenant_a):
    for phone in (NEW_YORK, WASHINGTON, CALIFORNIA):
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text=tenant_a.keyword.keyword)
    locmem.outbox.clear()
    return tenant_a


def _campaign(tenant, name="Pizza night"):
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name=name,
        body="Tony's Pizza: 2 for 1 tonight! Reply STOP to cancel", sender_number=tenant.number,
    )  # fmt: skip


def _status(campaign, now):
    campaign.refresh_from_db()
    return selectors.campaign_status_texts(campaigns=[campaign], now=now)[campaign.pk]


def test_texts_waiting_for_quiet_hours_keep_the_campaign_sending_until_they_go(audience):
    campaign = launch_campaign(_campaign(audience), NIGHT)
    send_due(NIGHT)
    assert [sms.to_number for sms in locmem.outbox] == [CALIFORNIA]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert _status(campaign, NIGHT) == "Sending — 2 waiting for quiet hours to end"

    send_due(MORNING)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert _status(campaign, MORNING) == "Sent"


def test_a_text_the_carrier_asked_to_retry_keeps_the_campaign_sending(audience, fake_telnyx):
    fake_telnyx.reset()
    campaign = launch_campaign(_campaign(audience), NOON_NY)
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", to=CALIFORNIA, retry_after=30)
    with time_machine.travel(NOON_NY, tick=False):
        send_due(NOON_NY)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert _status(campaign, NOON_NY) == "Sending — 1 waiting to retry"

    send_due(NOON_NY + timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert sorted(m["to"] for m in fake_telnyx.messages()).count(CALIFORNIA) == 2  # refused once, then sent


def test_a_hand_off_in_doubt_keeps_the_campaign_sending_until_it_is_settled(audience, fake_telnyx):
    fake_telnyx.reset()
    campaign = launch_campaign(_campaign(audience), NOON_NY)
    fake_telnyx.fail(status=503, code="10007", title="Unexpected error", to=WASHINGTON)
    with time_machine.travel(NOON_NY, tick=False):
        send_due(NOON_NY)
    campaign.refresh_from_db()
    assert campaign.messages.get(phone_number=WASHINGTON).status == Message.Status.SENDING
    assert campaign.status == Campaign.Status.SENDING
    assert _status(campaign, NOON_NY) == "Sending — 1 going out now"

    messaging_services.messages_expire_uncertain(now=NOON_NY + timedelta(days=4))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_texts_held_for_an_overdue_payment_are_not_called_quiet_hours(audience):
    campaign = launch_campaign(_campaign(audience), NOON_NY)
    Message.objects.filter(campaign=campaign, phone_number=NEW_YORK).update(
        send_after=NOON_NY + messaging_services.BILLING_RECHECK, error_code=Message.BILLING_PAUSED_CODE
    )
    Message.objects.filter(campaign=campaign).exclude(phone_number=NEW_YORK).update(status=Message.Status.SENT)
    assert _status(campaign, NOON_NY) == "Sending — 1 waiting for the overdue payment"
    assert selectors.campaign_stats(campaign=campaign, now=NOON_NY)["waiting_quiet_hours"] == 0


def test_a_launch_still_being_prepared_is_starting():
    campaign = Campaign(status=Campaign.Status.SENDING)
    assert selectors.campaign_status_text(campaign=campaign) == "Sending — starting"


def test_the_pages_and_the_api_say_what_the_texts_wait_for(client, audience):
    waiting = launch_campaign(_campaign(audience, name="Night promo"), NIGHT)
    send_due(NIGHT)
    done = launch_campaign(_campaign(audience, name="Noon promo"), NOON_NY - timedelta(days=1))
    send_due(NOON_NY - timedelta(days=1))
    done.refresh_from_db()
    assert done.status == Campaign.Status.SENT
    client.force_login(audience.member.user)
    text = "Sending — 2 waiting for quiet hours to end"
    with time_machine.travel(NIGHT + timedelta(minutes=1), tick=False):
        listing = client.get(reverse("dashboard:campaigns")).content.decode()
        page = client.get(reverse("dashboard:campaign", args=[waiting.pk])).content.decode()
        fragment = client.get(reverse("dashboard:campaign-stats", args=[waiting.pk])).content.decode()
        overview = client.get(reverse("dashboard:overview")).content.decode()
        api = api_client(audience.member)
        one = api.get(f"/api/v1/campaigns/{waiting.pk}/").json()
        listed = {row["id"]: row for row in api.get("/api/v1/campaigns/").json()["results"]}
    for html in (listing, page, fragment, overview):
        assert text in html
    assert ">Sent<" in listing and ">Sent<" in overview  # the campaign that did finish
    assert "Started Jan 14, 2026" in overview  # launched at 22:30 New York time, not "Sent"
    assert (one["status"], one["status_text"]) == ("sending", text)
    assert one["progress"] == {
        "quiet_hours": 2, "retrying": 0, "payment": 0, "going_out": 0,
        "summary": "2 waiting for quiet hours to end",
    }  # fmt: skip
    assert listed[waiting.pk]["status_text"] == text
    assert (listed[done.pk]["status"], listed[done.pk]["status_text"], listed[done.pk]["progress"]) == (
        "sent",
        "Sent",
        None,
    )


def test_the_status_of_another_business_campaign_is_not_found(client, audience, tenant_b):
    theirs = _campaign(tenant_b)
    client.force_login(audience.owner.user)
    assert client.get(reverse("dashboard:campaign-stats", args=[theirs.pk])).status_code == 404
    assert api_client(audience.owner).get(f"/api/v1/campaigns/{theirs.pk}/").status_code == 404
    assert Subscriber.objects.filter(business=tenant_b.business).count() == 0
