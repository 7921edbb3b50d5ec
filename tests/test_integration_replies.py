"""Replies first, end to end: the workers `make worker` starts (nextalerts.workers), Redis, PostgreSQL and the fake
Telnyx server. A campaign sends from a number at 1 message/s; a STOP texted to that number meanwhile gets its
confirmation handed to Telnyx while the campaign is still sending, not after it.

Skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails the test instead.
"""

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from campaigns import services
from campaigns.models import Campaign, Message
from nextalerts import celery_app
from subscribers.models import Subscriber
from tests.helpers import database_url, text_in, wait_for

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


def _drop_connection_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def workers(redis_url, fake_telnyx):
    """`python -m nextalerts.workers` as `make worker` runs it, on queues of this test's own."""
    tag = uuid.uuid4().hex[:8]
    reply_queue, default_queue = f"test-{tag}-replies", f"test-{tag}"
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue", "task_routes")}
    _drop_connection_pools()
    celery_app.conf.update(
        broker_url=redis_url, task_always_eager=False, task_default_queue=default_queue,
        task_routes={"campaigns.send_replies": {"queue": reply_queue}},
    )  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_REPLY_QUEUE": reply_queue,
        "CELERY_DEFAULT_QUEUE": default_queue,
        "SMS_BACKEND": "telnyx",
        "TELNYX_API_KEY": settings.TELNYX_API_KEY,
        "TELNYX_BASE_URL": fake_telnyx.base_url,
        "DJANGO_SETTINGS_MODULE": "nextalerts.settings",
    }
    log = Path(settings.BASE_DIR) / f".workers-{tag}.log"
    with open(log, "w+") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nextalerts.workers"], cwd=settings.BASE_DIR, env=env, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            assert wait_for(lambda: log.read_text().count("ready.") >= 2, timeout=60), "the workers did not start"
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            output.seek(0)
            print(output.read())
            _drop_connection_pools()
            celery_app.conf.update(saved)
            redis.Redis.from_url(redis_url).delete(reply_queue, default_queue)
            log.unlink(missing_ok=True)


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
