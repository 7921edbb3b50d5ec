"""/healthz is liveness (touches nothing); /readyz asks the database, Redis and the broker for real, and says which
did not answer."""

import socket

import pytest
from django.test import Client


@pytest.fixture
def closed_port():
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_liveness_answers_without_the_database():
    # No db fixture: a query here would fail the test (pytest-django blocks database access).
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_without_redis_checks_the_database_and_the_local_broker(db, settings):
    settings.REDIS_URL = ""
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readiness_with_redis_asks_it(db, settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}


def test_readiness_is_503_naming_redis_and_the_broker_when_they_do_not_answer(db, settings, closed_port, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failed"] == ["broker", "redis"]
    assert body["checks"]["database"] == "ok"
    assert str(closed_port) not in response.content.decode(), "addresses go to the log, not to the public answer"
    failures = [record for record in caplog.records if record.getMessage() == "health.check.failed"]
    assert {record.check for record in failures} == {"broker", "redis"}
    assert all(str(closed_port) in record.error for record in failures)


def test_readiness_is_not_cached(db):
    assert "no-cache" in Client().get("/readyz")["Cache-Control"]
