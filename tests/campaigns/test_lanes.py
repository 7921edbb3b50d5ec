"""Replies first: consent replies and one-to-one messages go ahead of campaign traffic, in the queue and in each
number's rate limit, and the rate still holds with both lanes sending.

Time is made observable, not measured: the local limiter runs on a clock the test moves, and the Redis tests assert
the slots Redis hands out, never how long anything took.
"""

import threading
import uuid
from itertools import pairwise

import pytest

from messaging import ratelimit
from messaging import services as messaging_services
from messaging.backends import locmem
from messaging.models import Message
from messaging.ratelimit import LocalRateLimiter, RedisRateLimiter, SlotTooFar
from nextalerts import celery_app
from tests.campaigns.test_campaigns import NOON_NY, _campaign, _join
from tests.campaigns.test_ratelimit import JITTER
from tests.helpers import launch_campaign, text_in

HORIZON = messaging_services.BULK_HORIZON_SECONDS


class FakeTime:
    """Stands in for the `time` module in ratelimit.py: sleeping moves the clock, nothing waits."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch, settings):
    """The process-wide local limiter (no Redis), on a clock of the test's own."""
    settings.REDIS_URL = ""
    clock = FakeTime()
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr(ratelimit, "_local_limiter", LocalRateLimiter(clock=clock.monotonic))
    return clock


@pytest.fixture
def queued(monkeypatch):
    """Tasks are recorded (message ids, countdown, lane) instead of run: the test runs them when it chooses, as a
    worker would, and campaign sends defer as they do under a real worker."""
    calls = []

    def record(ids, countdown=None, *, lane=messaging_services.BULK_LANE):
        calls.append((list(ids), countdown, lane))

    monkeypatch.setattr(messaging_services, "messages_enqueue", record)
    celery_app.conf.task_always_eager = False  # the autouse _sms_settings fixture sets it back
    return calls


@pytest.fixture
def redis_key(redis_url):
    key = f"test-{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(redis_url)
    yield key, limiter
    limiter.client.delete(limiter.prefix + key)
    limiter.client.close()


# --- the limiter ------------------------------------------------------------------------------------------------------


def test_bulk_books_only_within_the_horizon_and_a_reply_takes_the_next_slot():
    clock = FakeTime()
    limiter = LocalRateLimiter(clock=clock.monotonic)
    assert limiter.reserve("n", 1, horizon=HORIZON) == 0  # free now
    with pytest.raises(SlotTooFar) as refused:
        limiter.reserve("n", 1, horizon=HORIZON)
    assert refused.value.wait == pytest.approx(1.0)  # nothing was booked: the next slot is still 1 s away
    assert limiter.reserve("n", 1) == pytest.approx(1.0)  # the reply books it, ahead of the campaign
    with pytest.raises(SlotTooFar) as refused:
        limiter.reserve("n", 1, horizon=HORIZON)
    assert refused.value.wait == pytest.approx(2.0)  # the campaign's next send comes after the reply
    clock.now += 2.0 - HORIZON / 2
    assert limiter.reserve("n", 1, horizon=HORIZON) == pytest.approx(HORIZON / 2)


def test_redis_gives_a_reply_the_slot_ahead_of_the_waiting_campaign(redis_key):
    key, limiter = redis_key
    assert limiter.reserve(key, 1, horizon=HORIZON) == 0
    with pytest.raises(SlotTooFar) as first:
        limiter.reserve(key, 1, horizon=HORIZON)
    reply_wait = limiter.reserve(key, 1)
    with pytest.raises(SlotTooFar) as after_reply:
        limiter.reserve(key, 1, horizon=HORIZON)
    # Waits as Redis's own clock counts them: the reply got the slot the campaign was refused, the campaign the next.
    assert 0.9 <= first.value.wait <= 1.0
    assert 0.9 <= reply_wait <= 1.0
    assert after_reply.value.wait == pytest.approx(reply_wait + 1.0, abs=0.05)


def test_replies_and_campaign_sends_mixed_never_exceed_the_rate(redis_url, redis_key):
    """Two campaign senders (booking within the horizon, retrying when refused) and one reply sender share a number
    through Redis: the slots are still one interval apart, and every reply waited less than a slot and the horizon."""
    key, _ = redis_key
    rate, bulk_each, replies = 20, 15, 10
    stamps, reply_waits, errors = [], [], []
    lock = threading.Lock()

    def send(horizon, count):
        import time

        limiter = RedisRateLimiter(redis_url)
        try:
            for _ in range(count):
                while True:
                    try:
                        wait = limiter.reserve(key, rate, horizon=horizon)
                        break
                    except SlotTooFar as exc:
                        time.sleep(max(0.0, exc.wait - HORIZON / 2))  # as a deferred task comes back
                slot = time.time() + wait
                time.sleep(wait)
                with lock:
                    stamps.append((slot, time.time()))
                    if horizon is None:
                        reply_waits.append(wait)
                if horizon is None:
                    time.sleep(0.12)  # replies arrive now and then, not in a burst
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            limiter.client.close()

    threads = [threading.Thread(target=send, args=(HORIZON, bulk_each)) for _ in range(2)]
    threads.append(threading.Thread(target=send, args=(None, replies)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(stamps) == 2 * bulk_each + replies
    slots = sorted(slot for slot, _ in stamps)
    assert min(b - a for a, b in pairwise(slots)) >= 1 / rate - JITTER
    assert all(sent >= slot - JITTER for slot, sent in stamps), "a send came before its slot"
    # The rate is held on the slots (at most rate x window + 1 in any window follows from their spacing), not on the
    # times the threads woke at: on a busy machine several late sleepers wake together however far apart their slots.
    assert max(reply_waits) <= HORIZON + 1 / rate + 0.01


# --- the send path ----------------------------------------------------------------------------------------------------


def _sent_to():
    return [sms.to_number for sms in locmem.outbox]


@pytest.mark.django_db
def test_a_reply_queued_while_a_campaign_is_rate_limited_is_handed_over_first(
    tenant_a, redis_url, settings, queued, django_capture_on_commit_callbacks
):
    phones = [f"+1212555{n:04d}" for n in range(300, 305)]
    for phone in phones:
        _join(tenant_a, phone)
    settings.REDIS_URL = redis_url  # the real Redis limiter
    number = tenant_a.number
    number.messages_per_second = 1  # the default for a new number
    number.save()
    limiter = ratelimit.get_limiter()
    limiter.client.delete(f"{limiter.prefix}number:{number.pk}")  # no slots left from another test
    campaign = launch_campaign(_campaign(tenant_a), NOON_NY)
    ids, recipients = zip(*campaign.messages.order_by("id").values_list("pk", "phone_number"), strict=True)
    ids, first = list(ids), recipients[0]  # the database picks the order of the audience's rows
    replier = recipients[3]
    locmem.outbox.clear()
    queued.clear()

    # The campaign's task sends its first message; the number's next slot is a second away, so the rest goes back to
    # the queue with a countdown instead of holding the worker.
    with django_capture_on_commit_callbacks(execute=True):  # as outside the test's transaction
        messaging_services.messages_send(message_ids=ids, now=NOON_NY)
    assert _sent_to() == [first]
    [(rest, countdown, lane)] = queued
    assert rest == ids[1:] and lane == messaging_services.BULK_LANE
    assert 0.5 < countdown <= 1.0
    assert set(Message.objects.filter(pk__in=rest).values_list("status", "attempts")) == {(Message.Status.QUEUED, 0)}

    # Meanwhile a subscriber texts HELP: its answer is queued in the reply lane and takes the number's next slot.
    queued.clear()
    text_in(from_number=replier, to_number=number.phone_number, text="HELP")
    [(reply_ids, _, reply_lane)] = queued
    assert reply_lane == messaging_services.REPLY_LANE
    messaging_services.messages_send(message_ids=reply_ids, now=NOON_NY)
    assert _sent_to() == [first, replier]
    assert Message.objects.get(pk=reply_ids[0]).kind == Message.Kind.HELP_REPLY

    # The campaign's task comes back: the reply had the slot it was waiting for, so the campaign waits a slot more.
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        messaging_services.messages_send(message_ids=rest, now=NOON_NY)
    assert _sent_to() == [first, replier]
    [(again, later, _)] = queued
    assert again == rest and 0.5 < later <= 1.0
    limiter.client.delete(f"{limiter.prefix}number:{number.pk}")


@pytest.mark.django_db
def test_a_campaign_task_sleeps_at_most_its_share_then_yields_the_worker(
    tenant_a, fake_time, queued, django_capture_on_commit_callbacks
):
    phones = [f"+1212555{n:04d}" for n in range(400, 460)]
    for phone in phones:
        _join(tenant_a, phone)
    tenant_a.number.messages_per_second = 25
    tenant_a.number.save()
    campaign = launch_campaign(_campaign(tenant_a), NOON_NY)
    ids = list(campaign.messages.order_by("id").values_list("pk", flat=True))
    locmem.outbox.clear()
    queued.clear()
    fake_time.slept.clear()

    with django_capture_on_commit_callbacks(execute=True):
        messaging_services.messages_send(message_ids=ids, now=NOON_NY)
    sent = len(locmem.outbox)
    # Sends a slot apart (1/25 s), until the task has slept BULK_TASK_SLEEP_SECONDS; then the rest is queued again.
    assert sum(fake_time.slept) == pytest.approx(messaging_services.BULK_TASK_SLEEP_SECONDS, abs=0.05)
    assert 50 <= sent <= 52
    [(rest, countdown, lane)] = queued
    assert rest == ids[sent:] and countdown == 0 and lane == messaging_services.BULK_LANE
    assert campaign.messages.filter(status=Message.Status.SENT).count() == sent


@pytest.mark.django_db
def test_run_in_process_a_campaign_task_sleeps_for_its_slots_instead(tenant_a, fake_time):
    """CELERY_TASK_ALWAYS_EAGER (debugging, the test suite) has no queue to come back through."""
    tenant_a.number.messages_per_second = 1
    tenant_a.number.save()
    for n in range(3):
        _join(tenant_a, f"+1212555{500 + n:04d}")
    campaign = launch_campaign(_campaign(tenant_a), NOON_NY)
    locmem.outbox.clear()
    fake_time.now += 10  # past the slots the opt-in confirmations took
    fake_time.slept.clear()
    messaging_services.messages_send(message_ids=list(campaign.messages.values_list("pk", flat=True)), now=NOON_NY)
    assert len(locmem.outbox) == 3
    assert fake_time.slept == [pytest.approx(1.0), pytest.approx(1.0)]


@pytest.mark.django_db
def test_the_dispatcher_queues_replies_and_campaign_messages_in_their_lanes(tenant_a, queued):
    _join(tenant_a, "+12125550600")
    campaign = launch_campaign(_campaign(tenant_a), NOON_NY)
    reply = messaging_services.message_queue(
        business=tenant_a.business, sender_number=tenant_a.number, phone="+12125550600",
        kind=Message.Kind.CONVERSATION, body="See you at 3",
    )  # fmt: skip
    Message.objects.filter(direction=Message.Direction.OUTBOUND).update(
        dispatched_at=None, status=Message.Status.QUEUED
    )
    queued.clear()
    messaging_services.messages_dispatch_due()
    lanes = {lane: ids for ids, _, lane in queued}
    assert reply.pk in lanes[messaging_services.REPLY_LANE]
    assert set(campaign.messages.values_list("pk", flat=True)) == set(lanes[messaging_services.BULK_LANE])
    assert not set(lanes[messaging_services.REPLY_LANE]) & set(lanes[messaging_services.BULK_LANE])


def test_replies_are_routed_to_their_own_queue_and_campaigns_to_the_default_one(settings):
    def queue_of(task):
        return celery_app.amqp.router.route({}, task)["queue"].name

    assert queue_of("messaging.send_replies") == settings.REPLY_QUEUE == "replies"
    assert queue_of("messaging.send_messages") == settings.CELERY_TASK_DEFAULT_QUEUE == "celery"
