"""Campaigns end to end: the audience frozen at launch, consent at send time, quiet hours, the frequency cap,
scheduling, cancelling, and delivery reports — through the real telnyx SDK against the fake Telnyx server."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from consent.services import suppression_add_manual
from devtools.fakes import signing
from messaging import services as messaging_services
from messaging.models import Message, WebhookEvent
from subscribers.models import Subscriber
from subscribers.services import subscriber_update
from tests.helpers import launch_campaign, post_webhook, send_due, tasks_held, text_in

NEW_YORK = "+12125550143"
FLORIDA = "+13055550143"
CALIFORNIA = "+13105550143"
# 17:00 UTC on a winter weekday: 12:00 in New York, 09:00 in California.
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)


def _join(tenant, phone, text="JOIN"):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


def _campaign(tenant, body="Pizza night: 2 for 1 today!", **fields):
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name="Promo", body=body,
        sender_number=tenant.number, **fields,
    )  # fmt: skip


def _launch(campaign, now=NOON_NY):
    return launch_campaign(campaign, now)


def _send_due(now):
    send_due(now)


@pytest.fixture
def audience(tenant_a, fake_telnyx):
    for phone in (NEW_YORK, FLORIDA, CALIFORNIA):
        _join(tenant_a, phone)
    fake_telnyx.reset()
    return tenant_a


def _sent_to(fake):
    return sorted(m["to"] for m in fake.messages())


def test_launch_sends_once_to_every_subscribed_number(audience, fake_telnyx):
    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))  # 13:00 NY, 10:00 CA
    _send_due(datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    assert _sent_to(fake_telnyx) == sorted([NEW_YORK, FLORIDA, CALIFORNIA])
    assert {m["text"] for m in fake_telnyx.messages()} == {"Pizza night: 2 for 1 today!"}
    assert {m["from"] for m in fake_telnyx.messages()} == {audience.number.phone_number}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    stats = campaign_stats(campaign=campaign)
    assert (stats["recipients"], stats["sent"], stats["queued"]) == (3, 3, 0)


def test_audience_is_frozen_at_launch(audience, fake_telnyx):
    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    _join(audience, "+12125550144")  # subscribes after the launch
    fake_telnyx.reset()
    _send_due(datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    assert "+12125550144" not in _sent_to(fake_telnyx)
    assert campaign_stats(campaign=campaign)["recipients"] == 3


def test_unsubscribed_and_suppressed_numbers_get_no_message_row(audience, fake_telnyx):
    text_in(from_number=FLORIDA, to_number=audience.number.phone_number, text="STOP")
    suppression_add_manual(business=audience.business, phone=CALIFORNIA, user=None)
    _join(audience, "+12125550145")
    fake_telnyx.reset()

    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    _send_due(datetime(2026, 1, 14, 18, 0, tzinfo=UTC))

    assert _sent_to(fake_telnyx) == sorted([NEW_YORK, "+12125550145"])
    assert set(campaign.messages.values_list("phone_number", flat=True)) == {NEW_YORK, "+12125550145"}
    assert campaign.audience_size == 2 and campaign.skipped_suppressed == 0  # unsubscribed are not the audience


def test_tags_pick_the_audience(audience, fake_telnyx):
    ny = Subscriber.objects.get(phone_number=NEW_YORK)
    fl = Subscriber.objects.get(phone_number=FLORIDA)
    subscriber_update(subscriber=ny, tags=["vip"])
    subscriber_update(subscriber=fl, tags=["vip", "downtown"])
    campaign = _launch(_campaign(audience, tags=["VIP"]), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    assert sorted(campaign.messages.values_list("phone_number", flat=True)) == sorted([NEW_YORK, FLORIDA])


def test_a_stop_between_launch_and_send_blocks_that_message(audience, fake_telnyx):
    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    text_in(from_number=FLORIDA, to_number=audience.number.phone_number, text="STOP")
    fake_telnyx.reset()
    _send_due(datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    assert FLORIDA not in _sent_to(fake_telnyx)
    blocked = campaign.messages.get(phone_number=FLORIDA)
    assert blocked.status == Message.Status.BLOCKED
    assert campaign_stats(campaign=campaign)["blocked"] == 1


def test_opt_outs_after_a_campaign_are_counted_against_it(audience, fake_telnyx):
    launched = timezone.now() - timedelta(hours=1)
    campaign = _launch(_campaign(audience), now=launched)
    text_in(from_number=FLORIDA, to_number=audience.number.phone_number, text="STOP")
    text_in(from_number=FLORIDA, to_number=audience.number.phone_number, text="stop")  # the same person twice
    text_in(from_number="+12125550199", to_number=audience.number.phone_number, text="STOP")  # not a recipient
    assert campaign_stats(campaign=campaign)["opt_outs"] == 1


# --- quiet hours --------------------------------------------------------------------------------------------------


def test_marketing_waits_for_each_recipients_morning(audience, fake_telnyx):
    # 03:30 UTC: 22:30 in New York (quiet), 19:30 in California (allowed).
    night = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)
    campaign = _launch(_campaign(audience), now=night)
    _send_due(night)
    assert _sent_to(fake_telnyx) == [CALIFORNIA]
    stats = campaign_stats(campaign=campaign, now=night)
    assert stats["waiting_quiet_hours"] == 2
    waiting = campaign.messages.get(phone_number=NEW_YORK)
    assert waiting.send_after == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 in New York

    _send_due(datetime(2026, 1, 15, 13, 0, tzinfo=UTC))
    assert _sent_to(fake_telnyx) == sorted([CALIFORNIA, NEW_YORK, FLORIDA])
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_florida_numbers_stop_at_eight_in_the_evening(audience, fake_telnyx):
    # 01:30 UTC: 20:30 in New York and Florida (same zone) — allowed in New York, quiet in Florida.
    evening = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)
    _launch(_campaign(audience), now=evening)
    _send_due(evening)
    assert FLORIDA not in _sent_to(fake_telnyx)
    assert NEW_YORK in _sent_to(fake_telnyx)


def test_a_message_that_reaches_a_worker_after_the_window_closed_waits(audience, fake_telnyx):
    """Launched in the window, sent late (a backlog): the worker checks the window again and holds it."""
    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 15, 1, 55, tzinfo=UTC))  # 20:55 New York
    late = datetime(2026, 1, 15, 2, 5, tzinfo=UTC)  # 21:05 New York
    messaging_services.message_send(message_id=campaign.messages.get(phone_number=NEW_YORK).pk, now=late)
    message = campaign.messages.get(phone_number=NEW_YORK)
    assert message.status == Message.Status.QUEUED
    assert message.send_after == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    assert NEW_YORK not in _sent_to(fake_telnyx)


def test_transactional_messages_are_not_held_by_quiet_hours(audience, fake_telnyx):
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = messaging_services.transactional_send(
            business=audience.business, to=NEW_YORK, body="Showing at 8am confirmed"
        )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT  # sent at whatever hour the test runs
    assert _sent_to(fake_telnyx) == [NEW_YORK]


# --- frequency cap ------------------------------------------------------------------------------------------------


def test_frequency_cap_skips_and_counts(audience, fake_telnyx):
    audience.business.marketing_messages_per_day = 2
    audience.business.save()
    at = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)
    for n in range(2):
        campaign = _launch(_campaign(audience, body=f"Deal {n}"), now=at + timedelta(minutes=n))
        _send_due(at + timedelta(minutes=n))
    third = _launch(_campaign(audience, body="Deal 2"), now=at + timedelta(minutes=5))
    assert third.skipped_frequency == 3
    assert campaign_stats(campaign=third)["recipients"] == 0
    assert third.status == Campaign.Status.SENT

    # a day later the cap has room again
    fourth = _launch(_campaign(audience, body="Deal 3"), now=at + timedelta(hours=24, minutes=1))
    assert fourth.skipped_frequency == 0 and campaign_stats(campaign=fourth)["recipients"] == 3
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


# --- scheduling and cancelling ------------------------------------------------------------------------------------


def test_scheduled_campaign_launches_when_due(audience, fake_telnyx):
    campaign = _campaign(audience, send_at=datetime(2030, 1, 14, 18, 0, tzinfo=UTC))
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.campaign_launch(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert services.campaigns_launch_due() == {"launched": 0}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.campaigns_launch_due(now=datetime(2030, 1, 14, 18, 0, 1, tzinfo=UTC)) == {"launched": 1}
    campaign.refresh_from_db()
    assert campaign.status in (Campaign.Status.SENDING, Campaign.Status.SENT)
    assert campaign.messages.count() == 3


def test_cancel_stops_what_was_not_handed_over(audience, fake_telnyx):
    night = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)  # New York and Florida wait for the morning
    campaign = _launch(_campaign(audience), now=night)
    _send_due(night)
    campaign = services.campaign_cancel(campaign=campaign)
    _send_due(datetime(2026, 1, 15, 13, 0, tzinfo=UTC))
    assert _sent_to(fake_telnyx) == [CALIFORNIA]
    assert campaign.status == Campaign.Status.CANCELLED
    statuses = dict(campaign.messages.values_list("phone_number", "status"))
    assert statuses == {CALIFORNIA: "sent", NEW_YORK: "cancelled", FLORIDA: "cancelled"}


def test_only_drafts_can_be_launched_edited_or_deleted(audience, fake_telnyx):
    from django.core.exceptions import ValidationError

    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    for call in (
        lambda: services.campaign_launch(campaign=campaign),
        lambda: services.campaign_update(instance=campaign, body="changed"),
        lambda: services.campaign_delete(instance=campaign),
    ):
        with pytest.raises(ValidationError):
            call()


# --- delivery reports ---------------------------------------------------------------------------------------------


@pytest.fixture
def sent_message(audience, fake_telnyx):
    campaign = _launch(_campaign(audience), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    _send_due(datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    return campaign.messages.get(phone_number=NEW_YORK)


def _report(message, status, event="message.finalized", **payload):
    event_body = signing.message_finalized(
        provider_message_id=message.provider_message_id, to_number=message.phone_number, status=status
    )
    event_body["data"]["event_type"] = event
    event_body["data"]["payload"].update(payload)
    return post_webhook(event_body)


def test_delivery_report_records_status_time_cost_and_parts(sent_message):
    response = _report(
        sent_message, "delivered", parts=2, cost={"amount": "0.0080", "currency": "USD"},
        completed_at="2026-01-14T18:00:05+00:00",
    )  # fmt: skip
    assert (response.status_code, response.json()["status"]) == (202, "accepted")
    assert WebhookEvent.objects.get(event_type="message.finalized").outcome == "delivery-delivered"
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.DELIVERED
    assert sent_message.delivered_at == datetime(2026, 1, 14, 18, 0, 5, tzinfo=UTC)
    assert (sent_message.parts, str(sent_message.cost), sent_message.cost_currency) == (2, "0.0080", "USD")


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),  # out of order: never goes back
        (["delivered", "delivered", "delivered"], "delivered"),  # duplicates
        (["sending", "sent", "delivery_unconfirmed", "delivered"], "delivered"),
        (["delivery_failed", "sent"], "delivery_failed"),
        (["sending_failed"], "sending_failed"),
        (["delivery_unconfirmed", "sending"], "delivery_unconfirmed"),
    ],
)
def test_delivery_reports_only_move_a_message_forward(sent_message, sequence, final):
    for status in sequence:
        assert _report(sent_message, status, event="message.sent").status_code == 202
    sent_message.refresh_from_db()
    assert sent_message.status == final


def test_delivery_failure_40300_blocks_and_suppresses(sent_message):
    _report(sent_message, "delivery_failed", errors=[{"code": "40300", "title": "Blocked due to STOP message"}])
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.error_code) == (Message.Status.BLOCKED, "40300")
    assert Subscriber.objects.get(phone_number=NEW_YORK).status == "unsubscribed"


def test_report_for_an_unknown_message_is_acknowledged(audience):
    response = post_webhook(signing.message_finalized(provider_message_id="nope", to_number=NEW_YORK))
    assert response.status_code == 202
    assert WebhookEvent.objects.get(event_type="message.finalized").outcome == "unknown-message"


# --- the STOP race, on PostgreSQL -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs PostgreSQL's locks and a second session")
def test_no_message_leaves_after_a_stop_was_acknowledged_mid_campaign(tenant_a, fake_telnyx):
    phones = [f"+1212555{n:04d}" for n in range(200, 240)]
    for phone in phones:
        _join(tenant_a, phone)
    fake_telnyx.reset()
    fake_telnyx.state.latency = 0.01  # each hand-off takes a while, so STOPs land mid-send
    campaign = services.campaign_create(
        business=tenant_a.business, name="Race", body="Flash sale", sender_number=tenant_a.number
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    with tasks_held():  # the worker thread below does the sending, not the launch's own tasks
        services.campaign_fan_out(campaign_id=campaign.pk, now=NOON_NY)
    ids = list(campaign.messages.order_by("id").values_list("pk", flat=True))
    assert len(ids) == len(phones)

    def worker():
        try:
            for message_id in ids:
                messaging_services.message_send(message_id=message_id, now=NOON_NY)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    acknowledged = {}
    for phone in phones[5::6]:  # STOPs spread over the send
        time.sleep(0.03)
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="STOP")
        acknowledged[phone] = time.monotonic()
    thread.join(timeout=60)
    assert not thread.is_alive()

    late = [
        (r.body["to"], r.received_at - acknowledged[r.body["to"]])
        for r in fake_telnyx.state.requests
        if r.body.get("text") == "Flash sale" and r.body["to"] in acknowledged
        and r.received_at > acknowledged[r.body["to"]]
    ]  # fmt: skip
    assert late == [], "campaign messages reached Telnyx after the STOP was acknowledged"
    statuses = dict(campaign.messages.values_list("phone_number", "status"))
    blocked = [p for p in acknowledged if statuses[p] == Message.Status.BLOCKED]
    assert blocked, "the STOPs all arrived after their messages: the race was not exercised"


def test_an_edit_loaded_before_a_launch_cannot_undo_it(audience):
    from django.core.exceptions import ValidationError

    campaign = _campaign(audience)
    stale = Campaign.objects.get(pk=campaign.pk)
    _launch(campaign)
    with pytest.raises(ValidationError):
        services.campaign_update(instance=stale, body="changed")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.body == "Pizza night: 2 for 1 today!"


def test_campaign_tags_are_matched_like_subscriber_tags(audience):
    subscriber_update(subscriber=Subscriber.objects.get(phone_number=NEW_YORK), tags=["Big  Spender", "#VIP!"])
    campaign = _campaign(audience, tags=["big spender", "VIP"])
    assert sorted(campaign.tags.values_list("name", flat=True)) == ["big spender", "vip"]


@pytest.mark.parametrize("url", ["https://", "ftp://example.com/a.png", "example.com/a.png", "https:///x"])
def test_media_urls_must_be_fetchable_http_urls(audience, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="media_urls"):
        _campaign(audience, media_urls=[url])
