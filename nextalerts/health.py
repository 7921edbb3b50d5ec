"""Liveness and readiness, for the container's health checks and a load balancer.

/healthz (liveness) answers as long as the process serves requests: it touches nothing, so a database outage does
not get every web process restarted. /readyz (readiness) checks what a request needs: the database (a real query),
Redis when REDIS_URL is set, and the Celery broker; 200 when all answer, 503 naming the ones that did not.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis():
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker():
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_SECONDS, transport_options=options) as broker:
        # Opening the connection opens a channel, which on Redis is a PING: the broker has to answer.
        broker.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)


def checks() -> dict:
    found = {"database": _database, "broker": _broker}
    if settings.REDIS_URL:
        found["redis"] = _redis
    return found


@never_cache
def liveness(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readiness(request):
    results = {}
    for name, check in checks().items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is an answer here, never a 500
            # The response names the check; the details (hosts, addresses) go to the log only.
            logger.warning("health.check.failed", extra={"check": name, "error": f"{type(exc).__name__}: {exc}"})
            results[name] = "failed"
        else:
            results[name] = "ok"
    failed = sorted(name for name, result in results.items() if result != "ok")
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})
