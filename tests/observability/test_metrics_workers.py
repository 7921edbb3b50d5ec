"""Multiprocess mode with the product's own processes: the workers `make worker` starts (nextalerts.workers) write
their send outcomes and reply latencies to PROMETHEUS_MULTIPROC_DIR, and the web's /metrics shows them.

Needs Redis and PostgreSQL (several worker processes on one database); skipped otherwise, except under CI for Redis.
"""

import pytest
from django.db import connection
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from nextalerts import metricsdir
from tests.helpers import product_env, text_in, wait_for, workers_running

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several worker processes need PostgreSQL"),
]

PHONES = ["+12125550171", "+12125550172", "+12125550173"]


def _samples() -> dict:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_replies_sent_by_the_worker_processes_show_in_the_web_scrape(
    tenant_a, celery_queues, redis_url, fake_telnyx, tmp_path, settings
):
    stale = tmp_path / f"counter_{metricsdir.HOST}-7.db"
    stale.write_bytes(b"")  # left by an ended process: cleared when the workers start
    env = product_env(
        redis_url=redis_url, telnyx_base_url=fake_telnyx.base_url, queues=celery_queues,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )  # fmt: skip
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    with workers_running(env):
        assert not stale.exists()
        for phone in PHONES:
            text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="JOIN")
        assert wait_for(lambda: len(fake_telnyx.messages()) == len(PHONES), timeout=60), "confirmations not sent"

        def counted():
            samples = _samples()
            sent = samples.get(("nextalerts_messages_sent_total", (("outcome", "sent"),)), 0)
            replies = samples.get(("nextalerts_reply_latency_seconds_count", ()), 0)
            return sent == len(PHONES) and replies == len(PHONES)

        assert wait_for(counted, timeout=30), _samples()
    assert len({path.name.split("_")[-1] for path in tmp_path.glob("*.db")}) >= 2, "one file set per process"
