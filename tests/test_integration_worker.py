"""End to end with the production moving parts: the signed webhook commits an opt-in, the reply task goes through
Redis to a real Celery worker process, and the worker hands the confirmation to (fake) Telnyx with the real SDK.

Skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails the test instead.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from campaigns.models import Message
from nextalerts import celery_app
from tests.helpers import database_url, text_in, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONSUMER = "+12025550143"


def _drop_connection_pools():
    """Forget pools built for the previous broker URL; Celery builds new ones on next use."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_through_redis(redis_url):
    """Point this process's Celery app at Redis, on queues of its own (replies and the rest) so no other worker takes
    the tasks."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue", "task_routes")}
    _drop_connection_pools()
    celery_app.conf.update(
        broker_url=redis_url, task_always_eager=False, task_default_queue=queue,
        task_routes={"campaigns.send_replies": {"queue": f"{queue}-replies"}},
    )  # fmt: skip
    yield queue
    _drop_connection_pools()
    celery_app.conf.update(saved)
    redis.Redis.from_url(redis_url).delete(queue, f"{queue}-replies")


@pytest.fixture
def worker(celery_through_redis, redis_url, fake_telnyx):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "SMS_BACKEND": "telnyx",
        "TELNYX_API_KEY": settings.TELNYX_API_KEY,
        "TELNYX_BASE_URL": fake_telnyx.base_url,
        "DJANGO_SETTINGS_MODULE": "nextalerts.settings",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "nextalerts", "worker", "--pool=solo", "--concurrency=1",
        "-Q", f"{celery_through_redis}-replies,{celery_through_redis}",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip
    log = Path(settings.BASE_DIR) / f".worker-{celery_through_redis}.log"
    with open(log, "w+") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            output.seek(0)
            print(output.read())  # shown by pytest if the test failed
    log.unlink(missing_ok=True)


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
    assert wait_for(lambda: "campaigns.send_replies" in log.read_text() and "succeeded" in log.read_text(), 10)
