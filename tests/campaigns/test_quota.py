"""Message quotas and overdue payments on the send path: a launch beyond the plan's remaining segments is refused
with the numbers, sent segments are counted per billing period, and a business past due beyond the grace period has
its campaigns paused while STOP, HELP and opt-in replies still go out."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from accounts import billing
from accounts.models import Business
from campaigns import services
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats, campaign_status_texts
from consent.policy import BILLING_PAUSED, SendKind, can_send
from devtools.fakes import stripe_signing
from messaging import services as messaging_services
from messaging.models import Message
from tests.helpers import launch_campaign, send_due, text_in
from web import webform

# 17:00 UTC on a winter weekday: noon in New York, inside every quiet-hours window.
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
PHONES = ["+12125550143", "+12125550144", "+12125550145"]
LONG_BODY = "Pizza night! " * 20  # 260 plain characters: 2 segments


def _join(tenant, phone, text="JOIN"):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


def _campaign(tenant, body="Pizza night: 2 for 1 today!", **fields):
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name="Promo", body=body,
        sender_number=tenant.number, track_links=False, **fields,
    )  # fmt: skip


@pytest.fixture
def audience(tenant_a, fake_telnyx):
    for phone in PHONES:
        _join(tenant_a, phone)
    fake_telnyx.reset()
    return tenant_a


def _use(business, segments, now=NOON_NY):
    billing.usage_record(business=business, segments=segments, now=now)


# --- The quota at launch ----------------------------------------------------------------------------------------------


def test_launch_beyond_the_remaining_quota_is_refused_with_the_numbers(audience):
    _use(audience.business, billing.FREE.monthly_segments - 5)
    campaign = _campaign(audience, body=LONG_BODY)
    with pytest.raises(ValidationError) as refused:
        services.campaign_launch(campaign=campaign, now=NOON_NY)
    assert refused.value.message_dict["__all__"] == [
        "This campaign needs 6 segments (3 recipients × 2 segments) but only 5 are left this month on the Free "
        "plan; upgrade or wait until February 1, 2026."
    ]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_launch_within_the_quota_goes_ahead(audience):
    _use(audience.business, billing.FREE.monthly_segments - 6)
    campaign = launch_campaign(_campaign(audience, body=LONG_BODY), NOON_NY)
    assert campaign.status == Campaign.Status.SENDING


def test_suppressed_and_unsubscribed_numbers_do_not_count(audience):
    text_in(from_number=PHONES[0], to_number=audience.number.phone_number, text="STOP")
    _use(audience.business, billing.FREE.monthly_segments - 2)
    assert launch_campaign(_campaign(audience), NOON_NY).status == Campaign.Status.SENDING


def test_a_paid_plan_has_its_own_quota(audience, fake_stripe):
    Business.objects.filter(pk=audience.business.pk).update(plan="starter", billing_status="active")
    audience.business.refresh_from_db()
    _use(audience.business, billing.FREE.monthly_segments + 100)
    assert launch_campaign(_campaign(audience), NOON_NY).status == Campaign.Status.SENDING
    _use(audience.business, billing.STARTER.monthly_segments)
    with pytest.raises(ValidationError, match="only 0 are left this month on the Starter plan"):
        services.campaign_launch(campaign=_campaign(audience), now=NOON_NY)


def test_the_quota_refusal_is_shown_by_the_api(audience):
    from tests.helpers import api_client

    _use(audience.business, billing.FREE.monthly_segments, now=timezone.now())
    campaign = _campaign(audience, body=f"{audience.business.name}: 2 for 1 today! Reply STOP to opt out")
    response = api_client(audience.admin).post(f"/api/v1/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 400
    assert "This campaign needs 3 segments (3 recipients × 1 segment) but only 0 are left" in str(response.json())


# --- Counting what was sent -------------------------------------------------------------------------------------------


def test_sent_segments_are_counted_in_the_period(audience, fake_telnyx):
    before = billing.segments_used(audience.business, NOON_NY)
    launch_campaign(_campaign(audience, body=LONG_BODY), NOON_NY)
    send_due(NOON_NY)
    assert len(fake_telnyx.messages()) == 3
    assert billing.segments_used(audience.business, NOON_NY) == before + 6


def test_blocked_and_failed_messages_are_not_counted(audience, fake_telnyx):
    campaign = launch_campaign(_campaign(audience), NOON_NY)
    fake_telnyx.fail(status=422, code="40310", title="Invalid to number", to=PHONES[1])
    text_in(from_number=PHONES[2], to_number=audience.number.phone_number, text="STOP")  # blocked at send time
    before = billing.segments_used(audience.business, NOON_NY)
    send_due(NOON_NY)
    statuses = dict(Message.objects.filter(campaign=campaign).values_list("phone_number", "status"))
    assert statuses == {PHONES[0]: "sent", PHONES[1]: "failed", PHONES[2]: "blocked"}
    assert billing.segments_used(audience.business, NOON_NY) == before + 1


def test_usage_is_one_update_per_chunk(audience, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    launch_campaign(_campaign(audience), NOON_NY)
    _use(audience.business, 1)  # the period's row exists
    with CaptureQueriesContext(connection) as queries:
        send_due(NOON_NY)
    usage = [q for q in queries.captured_queries if "accounts_segmentusage" in q["sql"]]
    assert len(usage) == 1 and usage[0]["sql"].startswith("UPDATE")


def test_usage_is_counted_per_business(audience, tenant_b, fake_telnyx):
    launch_campaign(_campaign(audience), NOON_NY)
    send_due(NOON_NY)
    assert billing.segments_used(tenant_b.business, NOON_NY) == 0


# --- Past due: campaigns pause, consent replies never do --------------------------------------------------------------


def _past_due(business, failed_at):
    Business.objects.filter(pk=business.pk).update(
        plan="starter", billing_status=Business.BillingStatus.PAST_DUE, stripe_customer_id="cus_A",
        payment_failed_at=failed_at,
    )  # fmt: skip
    business.refresh_from_db()
    return business


def test_launch_is_refused_once_the_grace_period_is_over(audience, fake_stripe):
    _past_due(audience.business, NOON_NY - timedelta(days=8))
    campaign = _campaign(audience)
    with pytest.raises(ValidationError, match="Campaigns are paused since January 13, 2026"):
        services.campaign_launch(campaign=campaign, now=NOON_NY)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_launch_within_the_grace_period_goes_ahead(audience, fake_stripe):
    _past_due(audience.business, NOON_NY - timedelta(days=6))
    assert launch_campaign(_campaign(audience), NOON_NY).status == Campaign.Status.SENDING


def test_past_due_beyond_grace_pauses_campaigns_but_never_consent_replies(audience, fake_telnyx, fake_stripe):
    campaign = launch_campaign(_campaign(audience), NOON_NY)  # launched while paid up
    business = _past_due(audience.business, timezone.now() - timedelta(days=8))
    assert can_send(business, PHONES[0], SendKind.MARKETING).reason == BILLING_PAUSED

    send_due(NOON_NY)
    assert fake_telnyx.messages() == []
    waiting = Message.objects.filter(campaign=campaign)
    assert {m.status for m in waiting} == {Message.Status.QUEUED}  # paused, not dropped
    assert {m.send_after for m in waiting} == {NOON_NY + messaging_services.BILLING_RECHECK}
    # Said as what it is, not as quiet hours.
    assert campaign_stats(campaign=campaign, now=NOON_NY)["waiting_quiet_hours"] == 0
    campaign.refresh_from_db()
    assert campaign_status_texts(campaigns=[campaign], now=NOON_NY)[campaign.pk] == (
        "Sending — 3 waiting for the overdue payment"
    )

    # STOP → confirmation, HELP → the help text, a keyword → the opt-in confirmation: all still sent.
    number = audience.number.phone_number
    text_in(from_number=PHONES[0], to_number=number, text="STOP")
    text_in(from_number=PHONES[1], to_number=number, text="HELP")
    text_in(from_number="+12125550199", to_number=number, text="JOIN")
    sent = {m["to"]: m["text"] for m in fake_telnyx.messages()}
    assert "STOP" in sent[PHONES[0]] or "unsubscribed" in sent[PHONES[0]].lower()
    assert "Msg frequency varies" in sent[PHONES[1]]
    assert "+12125550199" in sent
    assert Message.objects.filter(kind=SendKind.OPT_IN_CONFIRMATION, status="sent", phone_number="+12125550199")

    # The web form's "Reply YES" request, and the confirmation of the YES, too.
    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post(
            reverse("join", args=[business.slug]),
            {"phone": "+12125550188", "consent": "on",
             "disclosure_digest": webform.disclosure_for(business=business).digest},
        )  # fmt: skip
    text_in(from_number="+12125550188", to_number=number, text="YES")
    kinds = set(Message.objects.filter(phone_number="+12125550188", status="sent").values_list("kind", flat=True))
    assert kinds == {SendKind.OPT_IN_REQUEST, SendKind.OPT_IN_CONFIRMATION}

    # The payment goes through: the paused campaign goes on, without the number that said STOP.
    fake_telnyx.reset()
    event = stripe_signing.invoice_event("invoice.paid", customer="cus_A", subscription="sub_A")
    body = stripe_signing.dumps(event)
    Client().post(reverse("webhook-stripe"), data=body, content_type="application/json", **stripe_signing.sign(body))
    send_due(NOON_NY + timedelta(hours=2))
    assert sorted(m["to"] for m in fake_telnyx.messages()) == sorted(PHONES[1:])
    assert Message.objects.get(campaign=campaign, phone_number=PHONES[0]).status == Message.Status.BLOCKED


def test_transactional_and_inbox_replies_continue_while_paused(audience, fake_telnyx, fake_stripe):
    business = _past_due(audience.business, timezone.now() - timedelta(days=30))
    with TestCase.captureOnCommitCallbacks(execute=True):
        messaging_services.transactional_send(business=business, to=PHONES[0], body="Your order is ready.")
    assert [m["to"] for m in fake_telnyx.messages()] == [PHONES[0]]


def test_billing_off_never_pauses(audience, fake_telnyx, settings):
    settings.STRIPE_SECRET_KEY = ""
    business = _past_due(audience.business, NOON_NY - timedelta(days=60))
    campaign = launch_campaign(_campaign(audience), NOON_NY)
    send_due(NOON_NY)
    assert len(fake_telnyx.messages()) == 3 and campaign.business == business


def test_the_quota_refusal_is_shown_in_the_dashboard(audience, client):
    # The opt-in confirmations the joins sent count too.
    _use(audience.business, billing.segments_remaining(audience.business) - 2, now=timezone.now())
    campaign = _campaign(audience, body="Tony's Pizza: 2 for 1 tonight! Reply STOP to opt out")
    client.force_login(audience.admin.user)
    response = client.post(reverse("dashboard:campaign-launch", args=[campaign.pk]), follow=True)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "needs 3 segments (3 recipients × 1 segment) but only 2 are left" in text
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
