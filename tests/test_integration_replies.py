"""Replies first, end to end: the workers `make worker` starts (nextalerts.workers), Redis, PostgreSQL and the fake
Telnyx server. A campaign sends from a number at 1 message/s; a STOP texted to that number meanwhile gets its
confirmation handed to Telnyx while the campaign is still sending, not after it.

Skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails the test instead.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection

from campaigns import services
from campaigns.models import Campaign
from messaging.models import Message
from subscribers.models import Subscriber
from tests.helpers import product_env, text_in, wait_for, workers_running

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several worker processes need PostgreSQL"),
]

RECIPIENTS = [f"+1212555{n:04d}" for n in range(700, 730)]


def _noon_somewhere() -> str:
    """A quiet-hours profile whose 08:00-21:00 window is open now: a fixed-offset zone where it is about noon."""
    offset = max(-12, min(12, datetime.now(UTC).hour - 12))
    return f"8-21@Etc/GMT{offset:+d}"  # Etc/GMT+5 is UTC-5


@pytest.fixture
def workers(celery_queues, redis_url, fake_telnyx):
    """`python -m nextalerts.workers` as `make worker` runs it, on queues of this test's own."""
    env = product_env(redis_url=redis_url, telnyx_base_url=fake_telnyx.base_url, queues=celery_queues)
    with workers_running(env) as (process, _log):
        yield process


def test_a_stop_is_confirmed_while_a_campaign_sends_from_the_same_number_at_one_per_second(
    tenant_a, fake_telnyx, workers
):
    number = tenant_a.number
    number.messages_per_second = 1
    number.save()
    for phone in RECIPIENTS:
        text_in(from_number=phone, to_number=number.phone_number, text="JOIN")
    assert wait_for(lambda: len(fake_telnyx.messages()) == len(RECIPIENTS), timeout=90), "opt-ins not confirmed"
    fake_telnyx.reset()

    # The worker reads the real clock: the recipients live, for this test, where it is about noon whenever it runs.
    Subscriber.objects.filter(business=tenant_a.business).update(quiet_profile=_noon_somewhere())
    campaign = services.campaign_create(
        business=tenant_a.business, name="Slow", body="Flash sale today", sender_number=number
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    services.campaign_fan_out(campaign_id=campaign.pk)
    assert wait_for(lambda: len(fake_telnyx.messages()) >= 3, timeout=30), "the campaign did not start sending"

    stopper = RECIPIENTS[-1]  # its campaign text is due last, some 30 s from now
    text_in(from_number=stopper, to_number=number.phone_number, text="STOP")
    assert wait_for(lambda: any(m["to"] == stopper for m in fake_telnyx.messages()), timeout=60), (
        "the STOP was never confirmed"
    )
    sent = fake_telnyx.messages()
    at = next(i for i, m in enumerate(sent) if m["to"] == stopper)
    assert "STOP" not in sent[at]["text"] or "START" in sent[at]["text"]  # the confirmation, not the campaign text
    campaign_before = sum(1 for m in sent[:at] if m["text"] == "Flash sale today")
    # Handed over within a few of the campaign's slots, while most of the campaign still waited.
    assert campaign_before <= 3 + 4, f"{campaign_before} campaign texts went before the STOP's confirmation"
    assert Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).count() > 10
    # And the campaign goes on, without the number that said stop.
    assert wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT, timeout=90)
    texts_to_stopper = [m for m in fake_telnyx.messages() if m["to"] == stopper]
    assert len(texts_to_stopper) == 1
