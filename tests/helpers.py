"""Shared test helpers: signed webhooks, API clients, and what tests that start real processes need."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from celery.signals import before_task_publish
from django.db import connection
from django.test import Client, TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from devtools.fakes import signing, stripe_signing


def post_webhook(event: dict, *, client: Client | None = None, headers: dict | None = None, body: str | None = None):
    """POST a Telnyx event to the webhook, signed with the test key unless `headers` are given.

    Callbacks queued for after the request's commit (the replies' send tasks) run, as they would in production.
    """
    body = signing.dumps(event) if body is None else body
    headers = signing.sign(body) if headers is None else headers
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or Client()).post(
            reverse("webhook-telnyx"), data=body, content_type="application/json", **headers
        )


def text_in(*, from_number, to_number, text, event_id=None, message_id=None):
    """A consumer texts `text` from `from_number` to a business's `to_number`, through the signed webhook."""
    event = signing.message_received(
        from_number=from_number, to_number=to_number, text=text, event_id=event_id, message_id=message_id
    )
    response = post_webhook(event)
    assert response.status_code == 200, response.content
    return response


def api_client(membership) -> APIClient:
    """An API client authenticated with a fresh token for this membership's user and business."""
    _token, secret = api_token_create(user=membership.user, business=membership.business)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def launch_campaign(campaign, now):
    """Launch and freeze the audience at `now`, without dispatching: tests then send with send_due() at a time of
    their choosing, so quiet hours never depend on when the suite runs."""
    from campaigns import services

    with TestCase.captureOnCommitCallbacks(execute=False):
        services.campaign_launch(campaign=campaign, now=now)
        services.campaign_fan_out(campaign_id=campaign.pk, now=now)
    campaign.refresh_from_db()
    return campaign


def send_due(now):
    """What the workers do at `now` with every queued message."""
    from messaging import services
    from messaging.models import Message

    ids = list(Message.objects.filter(status=Message.Status.QUEUED).values_list("pk", flat=True))
    return services.messages_send(message_ids=ids, now=now)


def database_url() -> str:
    """DATABASE_URL for a process of the product's (a worker, `make run`) to open the test database this test uses."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, timeout=60, interval=0.2) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextmanager
def tasks_held():
    """Queued Celery tasks go to an in-memory broker nobody reads, instead of running at once. Yields the list of
    what was queued meanwhile, as (task name, args, eta or None), in order."""
    from nextalerts import celery_app

    queued = []

    def record(sender=None, body=None, headers=None, **kwargs):
        queued.append((sender, list(body[0]), (headers or {}).get("eta")))

    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    celery_app._pool, celery_app.amqp._producer_pool = None, None
    conf.broker_url, conf.task_always_eager = "memory://localhost/", False
    before_task_publish.connect(record, weak=False)
    try:
        yield queued
    finally:
        before_task_publish.disconnect(record)
        celery_app._pool, celery_app.amqp._producer_pool = None, None
        conf.broker_url, conf.task_always_eager = saved


# The billing period of the subscription the `subscribed` fixture (tests/accounts/conftest.py) starts.
STRIPE_PERIOD_START = int(time.time()) - 86400
STRIPE_PERIOD_END = STRIPE_PERIOD_START + 30 * 86400


def post_stripe_event(event: dict | None, *, headers: dict | None = None, body: str | None = None):
    """POST a Stripe event to the webhook, signed with the test secret unless `headers` are given."""
    body = stripe_signing.dumps(event) if body is None else body
    headers = stripe_signing.sign(body) if headers is None else headers
    return Client().post(reverse("webhook-stripe"), data=body, content_type="application/json", **headers)


def answers_with_sessions_ended(request, *, lock_sql: str, params: list, sessions_ended: int) -> list:
    """Run `request()` (a test-client call) in a thread while a second session holds a lock it waits for (`lock_sql`,
    e.g. a row FOR UPDATE or an advisory lock); end the waiting request's database session `sessions_ended` times, as
    a failover would, then release the lock. Returns what the request answered (or the exception it raised)."""
    import threading

    import psycopg

    answers = []
    waiting = (
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )

    def run():
        try:
            answers.append(request())
        except Exception as exc:  # the test client re-raises a view's exception
            answers.append(exc)
        finally:
            connection.close()

    # The holder's transaction would see pg_stat_activity as it was when it began: a second session watches.
    with psycopg.connect(database_url()) as holder, psycopg.connect(database_url(), autocommit=True) as watcher:
        holder.execute(lock_sql, params)
        thread = threading.Thread(target=run)
        thread.start()
        ended = set()
        for _ in range(sessions_ended):
            assert wait_for(lambda: set(watcher.execute(waiting).fetchall()) - ended, timeout=20), "nothing waited"
            [(pid,)] = set(watcher.execute(waiting).fetchall()) - ended
            watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
            ended.add((pid,))
        holder.commit()  # the lock is free for another try
    thread.join(timeout=30)
    return answers


# --- Real worker processes --------------------------------------------------------------------------------------------


def _drop_celery_pools():
    """Forget pools built for the previous broker URL; Celery builds new ones on next use."""
    from nextalerts import celery_app

    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_on_redis(redis_url: str):
    """Point this process's Celery app at Redis, on queues of this test's own (the default one and the replies'), so
    that no other worker takes its tasks. Yields (default queue, reply queue); restores the app and drops the queues."""
    import redis

    from nextalerts import celery_app

    tag = uuid.uuid4().hex[:8]
    default_queue, reply_queue = f"test-{tag}", f"test-{tag}-replies"
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue", "task_routes")}
    _drop_celery_pools()
    celery_app.conf.update(
        broker_url=redis_url, task_always_eager=False, task_default_queue=default_queue,
        task_routes={"messaging.send_replies": {"queue": reply_queue}},
    )  # fmt: skip
    try:
        yield default_queue, reply_queue
    finally:
        _drop_celery_pools()
        celery_app.conf.update(saved)
        client = redis.Redis.from_url(redis_url)
        queues = (default_queue, reply_queue)
        bindings = [f"_kombu.{kind}.{queue}" for kind in ("binding", "binding_permanent") for queue in queues]
        client.delete(*queues, *bindings)
        # A worker killed with a task in hand leaves it in kombu's "unacked" hash, to be put back an hour later.
        for delivery_tag, raw in client.hscan_iter("unacked"):
            try:
                _message, _exchange, routing_key = json.loads(raw)
            except ValueError:
                continue
            if routing_key in queues:
                client.hdel("unacked", delivery_tag)
                client.zrem("unacked_index", delivery_tag)


def product_env(*, redis_url: str, telnyx_base_url: str, queues: tuple[str, str], **extra: str) -> dict:
    """The environment of a product process (a worker, beat) that uses this test's database, Redis queues and fake
    Telnyx server; `extra` adds or overrides variables (SEND_STALE_SECONDS=...)."""
    from django.conf import settings

    default_queue, reply_queue = queues
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_DEFAULT_QUEUE": default_queue,
        "CELERY_REPLY_QUEUE": reply_queue,
        "SMS_BACKEND": "telnyx",
        "TELNYX_API_KEY": settings.TELNYX_API_KEY,
        "TELNYX_BASE_URL": telnyx_base_url,
        "DJANGO_SETTINGS_MODULE": "nextalerts.settings.test",
        **extra,
    }


@contextmanager
def process_running(command: list[str], *, env: dict, name: str):
    """Run `command` in a process group of its own, output to a log file; yields (process, log path). On exit: SIGTERM,
    then SIGKILL to the whole group if it has not ended within 30 s; the log is printed (pytest shows it on failure)."""
    from django.conf import settings

    log = Path(settings.BASE_DIR) / f".{name}-{uuid.uuid4().hex[:8]}.log"
    with open(log, "w+") as output:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process, log
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            output.seek(0)
            print(f"--- {name} ---\n{output.read()}")
            log.unlink(missing_ok=True)


@contextmanager
def workers_running(env: dict, *, name: str = "workers"):
    """`python -m nextalerts.workers`, as `make worker` runs it, once both of its workers are ready. Yields
    (process, log path)."""
    with process_running([sys.executable, "-m", "nextalerts.workers"], env=env, name=name) as (process, log):
        assert wait_for(lambda: log.read_text().count("ready.") >= 2, timeout=60), f"the {name} did not start"
        yield process, log


def workers_kill(process: subprocess.Popen, log: Path) -> None:
    """SIGKILL, as a lost host: every Celery worker nextalerts.workers started (each its own process group: the main
    process and its prefork children) and then nextalerts.workers itself; nothing gets to clean up."""
    pids = [int(pid) for pid in re.findall(r"^\s+\w+\s+pid (\d+)", log.read_text(), flags=re.MULTILINE)]
    assert pids, "nextalerts.workers printed no worker pids"
    for pgid in [*pids, process.pid]:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)
