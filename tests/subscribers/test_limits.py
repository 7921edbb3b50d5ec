"""subscribers/limits.py: the join form's counters hold across processes, in Redis when REDIS_URL is set and in the
database otherwise, never only in one process's memory."""

import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections

from subscribers import limits
from subscribers.models import FormHitCounter

START = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)


def test_without_redis_the_counts_live_in_the_database(settings, time_machine, db):
    settings.REDIS_URL = ""
    time_machine.move_to(START, tick=False)
    assert [limits.hit(key="k", window_seconds=3600) for _ in range(3)] == [1, 2, 3]
    cache.clear()  # what one process holds in memory is not what the count rests on
    assert limits.hit(key="k", window_seconds=3600) == 4
    assert FormHitCounter.objects.get(key="k").hits == 4
    assert limits.hit(key="other", window_seconds=3600) == 1


def test_a_database_window_starts_again_once_it_has_passed_and_old_ones_are_cleared(settings, time_machine, db):
    settings.REDIS_URL = ""
    time_machine.move_to(START, tick=False)
    limits.hit(key="k", window_seconds=60)
    limits.hit(key="gone", window_seconds=60)
    time_machine.move_to(START + timedelta(seconds=59), tick=False)
    assert limits.hit(key="k", window_seconds=60) == 2
    time_machine.move_to(START + timedelta(seconds=61), tick=False)
    assert limits.hit(key="k", window_seconds=60) == 1
    assert not FormHitCounter.objects.filter(key="gone").exists()


def test_with_redis_another_process_sees_the_same_count(settings, redis_url):
    """Two processes on one Redis count into one window: a real second interpreter adds its hit to ours."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        assert limits.hit(key="k", window_seconds=60) == 1
        script = (
            "import django; django.setup(); from django.conf import settings; "
            f"settings.CACHES['default']['KEY_PREFIX'] = {prefix!r}; "
            "from subscribers import limits; print(limits.hit(key='k', window_seconds=60))"
        )
        env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "nextalerts.settings.test"}
        other = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip().splitlines()[-1] == "2"
        assert limits.hit(key="k", window_seconds=60) == 3
    finally:
        cache.delete("k")  # this test's own key only: the Redis database may be shared


def test_a_counter_key_never_holds_a_phone_number():
    for business in (None, 1):
        key = limits.number_key(phone="+13125550001", business=business)
        assert "3125550001" not in key and key.startswith("webform:")


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL")
def test_database_counts_made_at_once_on_separate_connections_are_all_counted(settings, transactional_db):
    """Eight connections hitting one new key together, as eight web processes would: each hit is counted once."""
    settings.REDIS_URL = ""
    start = threading.Barrier(8)

    def one_hit():
        try:
            start.wait()
            return limits.hit(key="together", window_seconds=3600)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        counts = sorted(pool.map(lambda _: one_hit(), range(8)))
    assert counts == list(range(1, 9))
    assert FormHitCounter.objects.get(key="together").hits == 8
