"""Fixed-window counters for the sign-up form's SMS-pumping limits, shared by every process: in Redis (the Django
cache) when REDIS_URL is set, in the database otherwise. A window starts at its first hit."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from nextalerts.phones import phone_hash

from .models import FormHitCounter

logger = logging.getLogger(__name__)


def ip_key(*, ip: str | None, business: int | None) -> str:
    """The counter of one address, on one business's form (`business` its id) or across all (None)."""
    return f"webform:{business or 'all'}:ip:{ip or 'unknown'}"


def number_key(*, phone: str, business: int | None) -> str:
    """The counter of one phone (E.164), by its keyed hash so that no store holds the number itself."""
    return f"webform:{business or 'all'}:phone:{phone_hash(phone)}"


def hit(*, key: str, window_seconds: int) -> int:
    """Count one hit; return the hits in the current window, this one included."""
    if settings.REDIS_URL:
        return _hit_cache(key, window_seconds)
    return _hit_database(key, window_seconds)


def _hit_cache(key: str, window_seconds: int) -> int:
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)  # atomic on Redis (INCR)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        return 1


def _hit_database(key: str, window_seconds: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        counter, created = FormHitCounter.objects.select_for_update().get_or_create(
            key=key, defaults={"hits": 1, "expires_at": now + timedelta(seconds=window_seconds)}
        )
        if not created:
            if counter.expires_at <= now:
                counter.hits, counter.expires_at = 1, now + timedelta(seconds=window_seconds)
            else:
                counter.hits += 1
            counter.save(update_fields=["hits", "expires_at"])
    if counter.hits == 1:
        _clear_expired(now)
    return counter.hits


def _clear_expired(now) -> None:
    """Delete windows that have passed (IP addresses are not kept longer than they count); done when a window starts,
    which is often enough. A failure here costs nothing but a few stale rows, so it never fails the request."""
    try:
        with transaction.atomic():
            FormHitCounter.objects.filter(expires_at__lte=now).delete()
    except DatabaseError:
        logger.warning("subscribers.limits.cleanup-failed", exc_info=True)
