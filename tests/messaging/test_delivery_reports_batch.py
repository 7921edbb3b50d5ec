"""Stored delivery reports applied many at a time (messaging.services.delivery_reports_apply, through the worker's
delivery_reports_apply_pending): one batch gives what applying each report in turn gives — statuses only move
forward, repeats change nothing, late cost and parts are kept, a carrier STOP suppresses, unknown ids are answered."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services as campaign_services
from consent.models import Suppression
from devtools.fakes import signing
from messaging import services
from messaging.models import Message, WebhookEvent
from messaging.webhooks import delivery_reports_apply_pending
from subscribers.models import Subscriber
from tests.helpers import launch_campaign, post_webhook, send_due, tasks_held, text_in

NEW_YORK, FLORIDA, CALIFORNIA = "+12125550143", "+13055550143", "+13105550143"
DAYTIME = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)  # 13:00 in New York, 10:00 in California


@pytest.fixture
def sent(tenant_a, fake_telnyx):
    """Three campaign texts handed over (status sent, each with the provider's id), by phone."""
    for phone in (NEW_YORK, FLORIDA, CALIFORNIA):
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="JOIN")
    campaign = campaign_services.campaign_create(
        business=tenant_a.business, name="Promo", body="Pizza night", sender_number=tenant_a.number
    )
    launch_campaign(campaign, DAYTIME)
    send_due(DAYTIME)
    messages = {m.phone_number: m for m in campaign.messages.all()}
    assert {m.status for m in messages.values()} == {Message.Status.SENT}
    return messages


def _report(message, status, *, event="message.finalized", error_code=None, **payload):
    body = signing.message_finalized(
        provider_message_id=message.provider_message_id if isinstance(message, Message) else message,
        to_number=message.phone_number if isinstance(message, Message) else NEW_YORK,
        status=status, error_code=error_code,
    )  # fmt: skip
    body["data"]["event_type"] = event
    body["data"]["payload"].update(payload)
    return body


def _store_then_apply(*bodies, message_updates=None):
    """Post each report (stored, not applied: no worker runs), then apply them all in one batch; with
    `message_updates`, check that the batch wrote the message table in that many UPDATE statements."""
    with tasks_held():
        for body in bodies:
            assert post_webhook(body).status_code == 202
    assert WebhookEvent.objects.filter(outcome="pending").count() == len(bodies)
    with CaptureQueriesContext(connection) as queries:
        result = delivery_reports_apply_pending()
    if message_updates is not None:
        updates = [q["sql"] for q in queries if re.search(r'UPDATE "campaigns_message"', q["sql"])]
        assert len(updates) == message_updates, updates
    outcomes = [WebhookEvent.objects.get(event_id=b["data"]["id"]).outcome for b in bodies]
    return result, outcomes


def test_a_mixed_batch_gives_each_report_its_own_outcome(sent, tenant_a):
    ny, fl, ca = sent[NEW_YORK], sent[FLORIDA], sent[CALIFORNIA]
    result, outcomes = _store_then_apply(
        _report(ny, "delivered", parts=2, cost={"amount": "0.0080", "currency": "USD"},
                completed_at="2026-01-14T18:00:05+00:00"),
        _report(fl, "delivery_failed", error_code="40300"),
        _report("not-ours", "delivered"),
        _report(ca, "sent", event="message.sent"),
    )  # fmt: skip
    assert result == {"applied": 4, "remaining": False}
    assert outcomes == ["delivery-delivered", "delivery-blocked", "unknown-message", "delivery-stale"]
    for m in sent.values():
        m.refresh_from_db()
    assert (ny.status, ny.parts, str(ny.cost), ny.cost_currency) == ("delivered", 2, "0.0080", "USD")
    assert ny.delivered_at == datetime(2026, 1, 14, 18, 0, 5, tzinfo=UTC)
    assert (fl.status, fl.error_code) == (Message.Status.BLOCKED, "40300")
    assert ca.status == Message.Status.SENT  # "sent" again: nothing new
    # The carrier's STOP went through consent's service: suppressed, and the subscriber opted out.
    assert Suppression.objects.filter(business=tenant_a.business, phone_number=FLORIDA).exists()
    assert Subscriber.objects.get(business=tenant_a.business, phone_number=FLORIDA).status == "unsubscribed"
    assert Subscriber.objects.get(business=tenant_a.business, phone_number=NEW_YORK).status == "subscribed"
    events = WebhookEvent.objects.filter(event_type__startswith="message.").exclude(outcome="unknown-message")
    assert set(events.values_list("business_id", flat=True)) == {tenant_a.business.pk}


def test_duplicates_of_one_message_in_one_batch_apply_once_and_keep_the_late_cost(sent):
    ny = sent[NEW_YORK]
    result, outcomes = _store_then_apply(
        _report(ny, "delivered", completed_at="2026-01-14T18:00:05+00:00"),
        _report(ny, "delivered", completed_at="2026-01-14T18:00:09+00:00"),
        _report(ny, "delivered", parts=1, cost={"amount": "0.0040", "currency": "USD"}),
        message_updates=1,  # the three folded into one row of one set-based UPDATE
    )
    assert result["applied"] == 3
    assert outcomes == ["delivery-delivered", "delivery-stale", "delivery-stale"]
    ny.refresh_from_db()
    assert ny.status == Message.Status.DELIVERED
    assert ny.delivered_at == datetime(2026, 1, 14, 18, 0, 5, tzinfo=UTC)  # the first delivery stands
    assert (ny.parts, str(ny.cost)) == (1, "0.0040")  # the figures that came later are kept


@pytest.mark.parametrize(
    ("sequence", "final", "outcomes"),
    [
        (["delivered", "sent"], "delivered", ["delivery-delivered", "delivery-stale"]),
        (["sending", "sent", "delivery_unconfirmed", "delivered"], "delivered",
         ["delivery-stale", "delivery-stale", "delivery-delivery_unconfirmed", "delivery-delivered"]),
        (["delivery_failed", "delivered"], "delivery_failed", ["delivery-delivery_failed", "delivery-stale"]),
        (["delivery_unconfirmed", "sending", "delivered"], "delivered",
         ["delivery-delivery_unconfirmed", "delivery-stale", "delivery-delivered"]),
    ],
)  # fmt: skip
def test_out_of_order_statuses_in_one_batch_only_move_a_message_forward(sent, sequence, final, outcomes):
    ny = sent[NEW_YORK]
    _result, got = _store_then_apply(
        *(_report(ny, status, event="message.sent") for status in sequence), message_updates=1
    )
    assert got == outcomes
    ny.refresh_from_db()
    assert ny.status == final


def test_a_batch_gives_what_applying_the_reports_one_at_a_time_gives(sent):
    """The same reports, batched and then one at a time on a copy of the same messages: the same rows and outcomes."""
    ny, fl = sent[NEW_YORK], sent[FLORIDA]
    reports = [
        ("delivered", ny, {"parts": 2}), ("sent", fl, {}), ("delivery_unconfirmed", fl, {}),
        ("sent", ny, {"cost": {"amount": "0.01", "currency": "USD"}}), ("delivered", fl, {}),
    ]  # fmt: skip
    batched = services.delivery_reports_apply(
        reports=[_normalized(_report(m, status, event="message.sent", **extra)) for status, m, extra in reports]
    )
    after_batch = _rows(ny, fl)
    Message.objects.filter(pk__in=[ny.pk, fl.pk]).update(
        status=Message.Status.SENT, parts=None, cost=None, cost_currency="", delivered_at=None
    )
    single = [
        services.delivery_report_apply(message=_normalized(_report(m, status, event="message.sent", **extra)))
        for status, m, extra in reports
    ]
    assert [o for o, _ in batched] == [o for o, _ in single]
    assert after_batch == _rows(ny, fl)


def _normalized(body):
    from messaging.webhooks import normalize_telnyx

    return normalize_telnyx(body["data"]["event_type"], body["data"]["payload"])


def _rows(*messages):
    fields = ("status", "parts", "cost", "cost_currency", "error_code")
    return [Message.objects.filter(pk=m.pk).values(*fields).get() for m in messages]
