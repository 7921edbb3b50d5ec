"""The daily retention job (beat entry "enforce-retention"): one run at a time, returning what it deleted."""

import logging
import uuid
from contextlib import contextmanager

from celery import shared_task
from django.core.cache import cache

from . import retention

logger = logging.getLogger(__name__)

LOCK_KEY = "privacy:enforce-retention:lock"
TIME_LIMIT = 60 * 60
# Outlives the hard time limit, so a worker killed mid-run cannot leave the lock behind for more than a few minutes.
LOCK_TIMEOUT = TIME_LIMIT + 5 * 60


@contextmanager
def retention_lock():
    """Yield True when this run holds the lock (the cache is Redis in production, shared by every worker), False
    when another run has it. Released at the end only by the run that took it."""
    token = uuid.uuid4().hex
    acquired = cache.add(LOCK_KEY, token, timeout=LOCK_TIMEOUT)
    try:
        yield acquired
    finally:
        if acquired and cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


# A first run on years of backlog may take longer than the limit: each chunk commits, and the next run goes on.
@shared_task(name="privacy.enforce_retention", acks_late=True, time_limit=TIME_LIMIT, soft_time_limit=TIME_LIMIT - 60)
def enforce_retention() -> dict:
    with retention_lock() as acquired:
        if not acquired:
            logger.warning("privacy.retention.already-running")
            return {"skipped": "another retention run holds the lock"}
        return retention.retention_enforce()
