"""The send rate limiter: a burst from several workers never goes faster than the rate, nor much slower.

The Redis tests are skipped only where no Redis is reachable; under CI (CI=true) an unreachable Redis fails them.
"""

import multiprocessing
import os
import threading
import time
import uuid
from itertools import pairwise

import pytest
import redis

from messaging.ratelimit import LocalRateLimiter, RedisRateLimiter, acquire, get_limiter

RATE = 20  # messages per second
# The clock is read just after a reservation returns: that, not the limiter, can put two slots this much closer.
JITTER = 0.010
# How much longer than (n - 1) / rate the reserved slots may span. Slots are fixed times, so delays do not add up; the
# workers start together (after start-up and connecting).
SLACK = 0.1
# The sends themselves may end later still: a loaded machine can wake a worker late for its slot.
SEND_SLACK = 0.3


@pytest.fixture
def key(redis_url):
    """A key of this test's own in Redis, deleted afterwards."""
    key = f"test-{uuid.uuid4().hex}"
    yield key
    limiter = RedisRateLimiter(redis_url)
    limiter.client.delete(limiter.prefix + key)
    limiter.client.close()


def _assert_within_rate(stamps, rate, n):
    """Each stamp is (reserved slot, send time). The slots are one interval apart and span no longer than the burst
    needs; no send comes before its slot; and no second — nor half second — of sends holds more than the rate allows
    (one more for where the window falls), however late a worker woke."""
    stamps = sorted(stamps)
    assert len(stamps) == n
    slots, sends = [slot for slot, _ in stamps], sorted(sent for _, sent in stamps)
    gaps = [b - a for a, b in pairwise(slots)]
    assert min(gaps) >= 1 / rate - JITTER, f"two slots only {min(gaps) * 1000:.1f} ms apart"
    span = slots[-1] - slots[0]
    assert span <= (n - 1) / rate + SLACK, f"{n} slots spanned {span:.3f}s, expected about {(n - 1) / rate:.3f}s"
    assert all(sent >= slot - JITTER for slot, sent in stamps), "a send came before its slot"
    for window in (1.0, 0.5):
        allowed = rate * window + 1
        for i, start in enumerate(sends):
            in_window = sum(1 for t in sends[i:] if t < start + window)
            assert in_window <= allowed, f"{in_window} sends in the {window}s from {start - sends[0]:.3f}s"
    duration = sends[-1] - sends[0]
    assert duration <= (n - 1) / rate + SEND_SLACK, f"{n} sends took {duration:.3f}s"


def _reserve_and_send(limiter, key, rate) -> tuple[float, float]:
    """As acquire() does: reserve a slot, sleep until it. Returns (the slot, when the send happened)."""
    wait = limiter.reserve(key, rate)
    slot = time.time() + wait
    time.sleep(wait)
    return slot, time.time()


def _assert_interleaved(a, b):
    """Both workers sent during the burst, rather than one after the other, so they really shared the key."""
    a, b = [sent for _, sent in a], [sent for _, sent in b]
    assert min(a) < max(b) and min(b) < max(a), "the workers did not send at the same time"


def _redis_worker(url, key, rate, count, barrier, results):
    """One worker process: its own limiter and connection, sleeping until each slot as acquire() does."""
    try:
        limiter = RedisRateLimiter(url)
        limiter.client.ping()  # connect before the start line, so connecting is not part of the burst
        barrier.wait(timeout=10)
        stamps = []
        for _ in range(count):
            stamps.append(_reserve_and_send(limiter, key, rate))
        results.put((os.getpid(), stamps))
    except BaseException as exc:
        results.put((os.getpid(), exc))
        raise


def test_redis_burst_from_two_worker_processes_never_exceeds_the_rate(redis_url, key):
    per_worker = 15
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_redis_worker, args=(redis_url, key, RATE, per_worker, barrier, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=20) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    stamps = []
    for pid, outcome in outcomes:
        assert isinstance(outcome, list), f"worker {pid} failed: {outcome!r}"
        stamps.append(outcome)

    _assert_interleaved(*stamps)
    _assert_within_rate(stamps[0] + stamps[1], RATE, 2 * per_worker)


def test_local_burst_from_threads_never_exceeds_the_rate():
    limiter, key, per_thread = LocalRateLimiter(), f"test-{uuid.uuid4().hex}", 10
    barrier = threading.Barrier(2)
    stamps = [[], []]

    def worker(out):
        barrier.wait(timeout=10)
        for _ in range(per_thread):
            out.append(_reserve_and_send(limiter, key, RATE))

    threads = [threading.Thread(target=worker, args=(out,)) for out in stamps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    _assert_interleaved(*stamps)
    _assert_within_rate(stamps[0] + stamps[1], RATE, 2 * per_thread)


@pytest.fixture(params=["local", "redis"])
def limiter_and_keys(request):
    """A limiter of each kind, and two fresh keys (deleted afterwards from Redis)."""
    if request.param == "local":
        limiter = LocalRateLimiter()
    else:
        limiter = RedisRateLimiter(request.getfixturevalue("redis_url"))
    keys = [f"test-{uuid.uuid4().hex}" for _ in range(2)]
    yield limiter, keys
    if isinstance(limiter, RedisRateLimiter):
        limiter.client.delete(*(limiter.prefix + k for k in keys))
        limiter.client.close()


def test_reservations_are_spaced_one_interval_apart_without_burst(limiter_and_keys):
    limiter, (key, _) = limiter_and_keys
    waits = [limiter.reserve(key, 10) for _ in range(3)]
    assert waits[0] == 0
    # Each reservation takes the slot 100 ms after the previous one, less the time that passed between the calls.
    assert waits[1] == pytest.approx(0.1, abs=0.02)
    assert waits[2] == pytest.approx(0.2, abs=0.02)


def test_different_keys_do_not_throttle_each_other(limiter_and_keys):
    limiter, (busy, idle) = limiter_and_keys
    assert [limiter.reserve(busy, 1) > 0.9 for _ in range(3)] == [False, True, True]
    assert limiter.reserve(idle, 1) == 0
    assert limiter.reserve(idle, 1) > 0.9


@pytest.mark.parametrize("rate", [0, -1, -0.5, float("nan"), float("inf"), None, "fast"])
def test_invalid_rates_are_refused(rate):
    for limiter in (LocalRateLimiter(), RedisRateLimiter("redis://127.0.0.1:1/0")):  # never reaches Redis
        with pytest.raises(ValueError, match="rate_per_second must be a positive"):
            limiter.reserve("any", rate)


def test_an_unreachable_redis_raises_instead_of_allowing_the_send():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")
    with pytest.raises(redis.ConnectionError):
        limiter.reserve(f"test-{uuid.uuid4().hex}", RATE)


def test_get_limiter_uses_redis_when_redis_url_is_set(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    limiter = get_limiter()
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter.client.get_connection_kwargs()["port"] == 6379
    assert get_limiter() is limiter, "one limiter, and its connection pool, per URL"

    settings.REDIS_URL = "redis://127.0.0.1:6380/0"
    other = get_limiter()
    assert other is not limiter
    assert other.client.get_connection_kwargs()["port"] == 6380


def test_get_limiter_is_one_process_wide_local_limiter_without_redis(settings):
    settings.REDIS_URL = ""
    limiter = get_limiter()
    assert isinstance(limiter, LocalRateLimiter)
    assert get_limiter() is limiter


def test_acquire_sleeps_until_the_slot_and_returns_the_wait(settings):
    settings.REDIS_URL = ""
    key, slept = f"test-{uuid.uuid4().hex}", []
    assert acquire(key, 10, sleep=slept.append) == 0
    assert slept == []
    waited = acquire(key, 10, sleep=slept.append)
    assert waited == pytest.approx(0.1, abs=0.02)
    assert slept == [waited]
