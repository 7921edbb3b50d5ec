"""The send pipeline's metrics read at scrape time (nextalerts/metrics.py serves them): the work waiting in each lane
and the delivery reports not applied yet."""

import redis
from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from nextalerts import metrics

from .models import Message, WebhookEvent
from .webhooks import PENDING

TIMEOUT_SECONDS = 2
# kombu's Redis transport keeps a queue's messages of priority 3, 6 and 9 in lists of their own beside it.
PRIORITY_SEPARATOR, PRIORITY_STEPS = "\x06\x16", (3, 6, 9)


def _lanes() -> dict[str, str]:
    return {"bulk": settings.CELERY_TASK_DEFAULT_QUEUE, "replies": settings.REPLY_QUEUE}


def _broker_depths() -> dict[str, int]:
    """Celery tasks waiting in each lane's Redis list (not those a worker has taken, nor those with a countdown,
    which a worker holds until their time)."""
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    lanes = _lanes()
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in lanes.values():
                for key in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
                    pipe.llen(key)
            lengths = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(PRIORITY_STEPS)
    return {lane: sum(lengths[i * per_queue : (i + 1) * per_queue]) for i, lane in enumerate(lanes)}


def _database_depths() -> dict[str, int]:
    """Without Redis: the outbound texts queued and due, by lane (a campaign's, or a reply)."""
    now = timezone.now()
    due = Message.objects.filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now),
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.QUEUED,
    )
    counts = due.aggregate(
        bulk=Count("pk", filter=Q(campaign__isnull=False)), replies=Count("pk", filter=Q(campaign__isnull=True))
    )
    return {lane: count or 0 for lane, count in counts.items()}


class QueueDepthCollector:
    def collect(self):
        yield metrics.queue_depth(_broker_depths() if settings.REDIS_URL else _database_depths())


class DeliveryReportsWaitingCollector:
    def collect(self):
        waiting = WebhookEvent.objects.filter(provider="telnyx", outcome=PENDING).count()
        yield metrics.delivery_reports_waiting(waiting)
