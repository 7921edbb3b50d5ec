"""End to end with the production moving parts: the signed webhook commits an opt-in, the reply task goes through
Redis to a real Celery worker process, and the worker hands the confirmation to (fake) Telnyx with the real SDK.

Skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails the test instead.
"""

import sys

import pytest

from messaging.models import Message
from tests.helpers import process_running, product_env, text_in, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONSUMER = "+12025550143"


@pytest.fixture
def worker(celery_queues, redis_url, fake_telnyx):
    """One plain Celery worker, solo pool, serving this test's queues (replies first)."""
    default_queue, reply_queue = celery_queues
    env = product_env(redis_url=redis_url, telnyx_base_url=fake_telnyx.base_url, queues=celery_queues)
    command = [
        sys.executable, "-m", "celery", "-A", "nextalerts", "worker", "--pool=solo", "--concurrency=1",
        "-Q", f"{reply_queue},{default_queue}",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip
    with process_running(command, env=env, name="worker") as running:
        yield running


def test_reply_reaches_telnyx_through_a_real_worker(tenant_a, fake_telnyx, worker):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")

    reply = Message.objects.get(kind=Message.Kind.OPT_IN_CONFIRMATION)
    assert wait_for(lambda: fake_telnyx.messages()), "the worker never sent the confirmation"
    [sent] = fake_telnyx.messages()
    assert sent["to"] == CONSUMER and sent["from"] == tenant_a.number.phone_number
    assert "Reply HELP for help, STOP to cancel" in sent["text"]
    assert wait_for(lambda: Message.objects.get(pk=reply.pk).status == Message.Status.SENT, timeout=10)
    process, log = worker
    assert process.poll() is None, "the worker exited"
    # It was the worker process, not this one, that ran the task.
    assert wait_for(lambda: "messaging.send_replies" in log.read_text() and "succeeded" in log.read_text(), 10)
