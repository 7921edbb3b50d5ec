"""A worker killed mid-campaign, end to end: the workers `make worker` starts (nextalerts.workers), Redis, PostgreSQL
and the fake Telnyx server. Every process of the first host gets SIGKILL while a text is in flight to Telnyx; a
second host (workers and beat) takes over. Every recipient gets exactly one text, and the campaign ends sent.

What the kill leaves, and who settles it: the texts of the dead worker's chunk that reached Telnyx (the one in flight
among them) have their hand-off begun but no outcome; they are never resent, and Telnyx's delivery reports, which
come within seconds, settle them. The rest of its chunk was claimed but not handed over: once SEND_STALE_SECONDS
pass, the dispatcher that beat runs queues them again, with the messages of the task the dead worker held.

Skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails the test instead.
"""

import re
import sys
from collections import Counter

import pytest
from django.db import connection

from campaigns import services
from campaigns.models import Campaign
from devtools.fakes import signing
from messaging.models import Message, WebhookEvent
from messaging.tasks import apply_delivery_reports
from subscribers.models import Subscriber
from tests.helpers import (
    celery_on_redis,
    post_webhook,
    process_running,
    product_env,
    text_in,
    wait_for,
    workers_kill,
    workers_running,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several worker processes need PostgreSQL"),
]

RECIPIENTS = [f"+1212555{n:04d}" for n in range(800, 840)]
BODY = "Spring sale: 20% off today"
# The number sends 10 a second, so the dead worker's chunk is ten texts; the kill lands while the 4th is in flight:
# three handed over before it, six claimed after it.
RATE = 10
KILL_AT = 4
# While the first host runs, Telnyx takes half a second to answer each send: the kill lands inside a request, not in
# the instant between recording a hand-off and starting it (the one message no recovery can account for).
LATENCY = 0.5


APPLIED = re.compile(r"Task messaging\.apply_delivery_reports\[[^\]]+\] succeeded")


def _undelivered(campaign):
    return Message.objects.filter(campaign=campaign).exclude(status=Message.Status.DELIVERED)


def _campaign_texts(fake):
    return [r for r in fake.state.requests if r.path == "/v2/messages" and r.body.get("text") == BODY]


class _Telnyx:
    """Plays Telnyx's side of delivery reports: a signed message.finalized for every text it took, once."""

    def __init__(self, fake):
        self.fake, self.reported = fake, set()

    def report(self) -> None:
        for request in _campaign_texts(self.fake):
            if request.message_id and request.message_id not in self.reported:
                event = signing.message_finalized(
                    provider_message_id=request.message_id, to_number=request.body["to"],
                    from_number=request.body["from"], text=request.body["text"],
                )  # fmt: skip
                assert post_webhook(event).status_code == 202
                self.reported.add(request.message_id)


def test_a_worker_killed_mid_campaign_leaves_every_recipient_one_text_and_the_campaign_sent(
    tenant_a, fake_telnyx, redis_url, tmp_path
):
    number = tenant_a.number
    for phone in RECIPIENTS:  # the opt-ins, in this process (tasks run eagerly until Celery is pointed at Redis)
        text_in(from_number=phone, to_number=number.phone_number, text="JOIN")
    Subscriber.objects.filter(business=tenant_a.business).update(quiet_profile="0-24@UTC")  # sendable at any hour
    number.messages_per_second = RATE
    number.save()
    fake_telnyx.reset()
    telnyx = _Telnyx(fake_telnyx)

    with celery_on_redis(redis_url) as queues:
        env = product_env(
            redis_url=redis_url, telnyx_base_url=fake_telnyx.base_url, queues=queues,
            SEND_STALE_SECONDS="3", SCHEDULER_INTERVAL_SECONDS="1",
        )  # fmt: skip
        with workers_running(env, name="first-host") as (first, first_log):
            fake_telnyx.state.latency = LATENCY
            campaign = services.campaign_create(
                business=tenant_a.business, name="Crash", body=BODY, sender_number=number
            )
            Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
            services.campaign_fan_out(campaign_id=campaign.pk)  # queued for the workers through Redis
            assert wait_for(lambda: len(_campaign_texts(fake_telnyx)) >= KILL_AT, timeout=60, interval=0.01), (
                "the campaign did not start sending"
            )
            workers_kill(first, first_log)
        fake_telnyx.state.latency = 0.0
        taken = len(_campaign_texts(fake_telnyx))

        # What the kill left: texts that reached Telnyx with no outcome recorded, and claims never handed over.
        claimed = Message.objects.filter(campaign=campaign, status=Message.Status.SENDING)
        begun = claimed.filter(handoff_started_at__isnull=False).count()
        assert begun >= 1 and claimed.filter(handoff_started_at__isnull=True).exists()
        recorded = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count()
        assert begun + recorded == taken, "the kill came between recording a hand-off and its request reaching Telnyx"
        # Telnyx reports what it took within seconds, and a worker applies the reports at once: long before the dead
        # worker's claims are presumed lost (SEND_STALE_SECONDS is minutes in production; beat is not running yet).
        telnyx.report()
        apply_delivery_reports.delay()  # what the webhook asks for (at most once a second from each process)
        beat = [sys.executable, "-m", "celery", "-A", "nextalerts", "beat", "--loglevel=INFO",
                f"--schedule={tmp_path / 'beat-schedule'}"]  # fmt: skip
        with workers_running(env, name="second-host") as (_second, second_log):
            assert wait_for(lambda: APPLIED.search(second_log.read_text()), timeout=30), "the reports were not applied"
            # Those for the dead worker's texts wait for its claims to be presumed lost, instead of being dropped.
            reports = WebhookEvent.objects.filter(event_type="message.finalized")
            assert reports.filter(outcome="pending").count() == begun
            with process_running(beat, env=env, name="beat"):

                def sent():
                    telnyx.report()  # and goes on reporting what the second host sends
                    return Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT

                assert wait_for(sent, timeout=90), dict(
                    Counter(Message.objects.filter(campaign=campaign).values_list("status", "error_code"))
                )
                assert wait_for(lambda: not _undelivered(campaign).exists(), timeout=30), (
                    f"delivery reports never applied: {list(_undelivered(campaign).values('status', 'error_code'))}"
                )

    # Sent means nothing of the campaign is queued or being handed over: no text can still be on its way.
    texts = Counter(r.body["to"] for r in _campaign_texts(fake_telnyx))
    assert texts == Counter(RECIPIENTS), {phone: n for phone, n in texts.items() if n != 1}
    # The dead worker's claims that were never handed over were sent by the second host, on their second attempt.
    assert Message.objects.filter(campaign=campaign, attempts=2).exists()
