"""GET /metrics after real actions through the real paths: signed webhooks, a campaign sent through the fake Telnyx
server, stored delivery reports, messages waiting in Redis or the database; the multiprocess mode with real
processes; the token."""

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from django.test import Client, TestCase
from prometheus_client.parser import text_string_to_metric_families

from devtools.fakes import signing
from messaging.tasks import send_messages, send_replies
from nextalerts import metricsdir
from tests.helpers import api_client, launch_campaign, post_stripe_event, post_webhook, tasks_held, text_in

NEW_YORK, NEW_YORK_2 = "+12125550143", "+12125550144"
# 18:00 UTC on a winter weekday: 13:00 in New York, inside the marketing window.
DAYTIME = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)


def scrape(**headers) -> dict:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def webhook_events(samples, provider, kind, outcome) -> float:
    return value(samples, "nextalerts_webhook_events_total", provider=provider, kind=kind, outcome=outcome)


@pytest.fixture
def daytime(time_machine):
    time_machine.move_to(DAYTIME)


def _join(tenant, phone=NEW_YORK):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text="JOIN")


# --- webhook intake and the STOP latency ------------------------------------------------------------------------


def test_a_signed_stop_counts_as_inbound_intake_and_its_time_to_2xx_is_observed(tenant_a, daytime):
    _join(tenant_a)
    before = scrape()

    text_in(from_number=NEW_YORK, to_number=tenant_a.number.phone_number, text="STOP")

    after = scrape()
    assert (
        webhook_events(after, "telnyx", "inbound", "accepted") - webhook_events(before, "telnyx", "inbound", "accepted")
        == 1
    )
    stops = value(after, "nextalerts_stop_response_seconds_count") - value(
        before, "nextalerts_stop_response_seconds_count"
    )
    assert stops == 1
    took = value(after, "nextalerts_stop_response_seconds_sum") - value(before, "nextalerts_stop_response_seconds_sum")
    assert 0 < took < 5
    # A HELP is intake too, but no STOP latency.
    text_in(from_number=NEW_YORK, to_number=tenant_a.number.phone_number, text="HELP")
    assert value(scrape(), "nextalerts_stop_response_seconds_count") == value(
        after, "nextalerts_stop_response_seconds_count"
    )


def test_redelivered_refused_and_invalid_webhooks_are_counted_by_outcome(tenant_a, daytime):
    event = signing.message_received(from_number=NEW_YORK, to_number=tenant_a.number.phone_number, text="JOIN")
    post_webhook(event)
    before = scrape()

    assert post_webhook(event).status_code == 200  # the same event id again
    body = signing.dumps(event)
    assert post_webhook(event, body=body, headers=signing.sign(body + " ")).status_code == 403
    assert post_webhook({}, body="not json", headers=signing.sign("not json")).status_code == 400

    after = scrape()
    for kind, outcome in (("inbound", "duplicate"), ("unknown", "refused"), ("unknown", "invalid")):
        assert webhook_events(after, "telnyx", kind, outcome) - webhook_events(before, "telnyx", kind, outcome) == 1


def test_a_stripe_event_with_a_bad_signature_counts_as_refused(fake_stripe, db):
    before = scrape()
    body = '{"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}'
    assert post_stripe_event(None, body=body, headers={"HTTP_STRIPE_SIGNATURE": "t=1,v1=00"}).status_code == 400

    after = scrape()
    assert (
        webhook_events(after, "stripe", "billing", "refused") - webhook_events(before, "stripe", "billing", "refused")
        == 1
    )


def test_a_stored_delivery_report_counts_as_delivery_intake_and_waits_until_applied(tenant_a, daytime):
    report = signing.message_finalized(provider_message_id="msg-unknown-1", to_number=NEW_YORK)
    before = scrape()
    assert value(before, "nextalerts_delivery_reports_waiting") == 0

    with tasks_held():  # the batch that would apply it is not run
        assert post_webhook(report).status_code == 202

    after = scrape()
    assert (
        webhook_events(after, "telnyx", "delivery", "accepted")
        - webhook_events(before, "telnyx", "delivery", "accepted")
        == 1
    )
    assert value(after, "nextalerts_delivery_reports_waiting") == 1

    from messaging.webhooks import delivery_reports_apply_pending

    delivery_reports_apply_pending()
    assert value(scrape(), "nextalerts_delivery_reports_waiting") == 0


# --- send outcomes and the reply latency ------------------------------------------------------------------------


def test_a_campaign_sent_through_telnyx_counts_its_send_outcomes(tenant_a, daytime, fake_telnyx):
    for phone in (NEW_YORK, NEW_YORK_2):
        _join(tenant_a, phone)
    fake_telnyx.reset()
    before = scrape()
    owner = api_client(tenant_a.owner)
    body = f"{tenant_a.business.name}: 2 for 1 tonight! Reply STOP to opt out"
    created = owner.post(
        "/api/v1/campaigns/", {"name": "Pizza night", "body": body, "number": tenant_a.number.pk}, format="json"
    ).json()

    with TestCase.captureOnCommitCallbacks(execute=True):
        launched = owner.post(f"/api/v1/campaigns/{created['id']}/launch/")
        assert launched.status_code == 202, launched.content

    assert sorted(m["to"] for m in fake_telnyx.messages()) == [NEW_YORK, NEW_YORK_2]
    after = scrape()
    sent = "nextalerts_messages_sent_total"
    assert value(after, sent, outcome="sent") - value(before, sent, outcome="sent") == 2
    # Marketing texts are not replies: no reply latency for them.
    assert value(after, "nextalerts_reply_latency_seconds_count") == value(
        before, "nextalerts_reply_latency_seconds_count"
    )


def test_a_reply_handed_to_telnyx_observes_its_latency_and_a_refused_send_counts_as_failed(
    tenant_a, daytime, fake_telnyx
):
    before = scrape()
    _join(tenant_a)  # its confirmation goes out through the fake Telnyx server

    after = scrape()
    assert [m["to"] for m in fake_telnyx.messages()] == [NEW_YORK]
    assert (
        value(after, "nextalerts_reply_latency_seconds_count") - value(before, "nextalerts_reply_latency_seconds_count")
        == 1
    )
    sent = "nextalerts_messages_sent_total"
    assert value(after, sent, outcome="sent") - value(before, sent, outcome="sent") == 1

    fake_telnyx.fail(status=422, code="40310", title="Invalid destination number")  # refused for good
    text_in(from_number=NEW_YORK, to_number=tenant_a.number.phone_number, text="HELP")
    assert value(scrape(), sent, outcome="failed") - value(after, sent, outcome="failed") == 1


# --- queue depth -------------------------------------------------------------------------------------------------


def test_without_redis_the_queue_depth_counts_the_due_queued_texts_by_lane(tenant_a, daytime, settings):
    settings.REDIS_URL = ""
    _join(tenant_a, NEW_YORK_2)
    with tasks_held():
        _join(tenant_a)  # its confirmation is queued for a worker that is not running
    from campaigns.models import Campaign

    campaign = Campaign.objects.create(
        business=tenant_a.business,
        name="Pizza",
        body=f"{tenant_a.business.name}: 2 for 1! Reply STOP to opt out",
        sender_number=tenant_a.number,
    )
    launch_campaign(campaign, DAYTIME)  # two texts frozen, not dispatched

    samples = scrape()
    assert value(samples, "nextalerts_queue_depth", lane="replies") == 1
    assert value(samples, "nextalerts_queue_depth", lane="bulk") == 2


@pytest.mark.integration
def test_with_redis_the_queue_depth_reads_the_broker_queues(celery_queues, redis_url, settings, db):
    default_queue, reply_queue = celery_queues
    settings.REDIS_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE, settings.REPLY_QUEUE = default_queue, reply_queue
    assert value(scrape(), "nextalerts_queue_depth", lane="bulk") == 0

    send_replies.delay([1])
    send_messages.delay([2, 3])
    send_messages.delay([4])

    samples = scrape()
    assert value(samples, "nextalerts_queue_depth", lane="replies") == 1
    assert value(samples, "nextalerts_queue_depth", lane="bulk") == 2


def test_a_collector_that_fails_leaves_its_metric_out_and_the_scrape_answers(settings, db, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    samples = scrape()

    assert not any(name == "nextalerts_queue_depth" for name, _labels in samples)
    assert ("nextalerts_delivery_reports_waiting", ()) in samples
    assert any(record.getMessage() == "metrics.collect.failed" for record in caplog.records)


# --- the endpoint ------------------------------------------------------------------------------------------------


def test_with_a_token_a_scrape_needs_it_as_a_bearer_token(settings, db):
    settings.METRICS_TOKEN = "s3cret-token"

    refused = Client().get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Token s3cret-token").status_code == 401
    samples = scrape(HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ("nextalerts_delivery_reports_waiting", ()) in samples


def test_metrics_switched_off_are_not_found_and_only_get_is_answered(settings, db):
    assert Client().post("/metrics").status_code == 405
    settings.METRICS_ENABLED = False
    assert Client().get("/metrics").status_code == 404


# --- multiprocess mode -------------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from nextalerts import metrics
    metrics.MESSAGES_SENT.labels(outcome="sent").inc(int(sys.argv[1]))
    metrics.STOP_RESPONSE.observe(0.02)
    if sys.argv[2:] == ["stay"]:
        print("written", flush=True)
        sys.stdin.read()
    """
)


def _writer(directory, count, *extra, cwd=None, env_dir=None, **popen):
    """A process that counts `count` sends and one STOP response in multiprocess mode (`env_dir`: the variable's
    value instead of `directory`)."""
    from django.conf import settings

    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory) if env_dir is None else env_dir, "PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(count), *extra], env=env, cwd=cwd or settings.BASE_DIR, text=True, **popen
    )


def test_in_multiprocess_mode_one_scrape_sums_what_each_process_wrote(tmp_path, settings, db):
    for count in (3, 4):
        assert _writer(tmp_path, count).wait(timeout=60) == 0
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)

    samples = scrape()
    assert value(samples, "nextalerts_messages_sent_total", outcome="sent") == 7
    assert value(samples, "nextalerts_stop_response_seconds_count") == 2
    assert ("nextalerts_delivery_reports_waiting", ()) in samples  # the scrape-time collectors too
    assert ("process_cpu_seconds_total", ()) not in samples  # only what the files hold, not this process's own


def test_a_process_takes_over_the_files_of_an_ended_one_and_clearing_keeps_a_live_ones(tmp_path, settings, db):
    assert _writer(tmp_path, 3).wait(timeout=60) == 0
    assert _writer(tmp_path, 4).wait(timeout=60) == 0  # the first one's slot, free again: its files
    host = metricsdir.HOST
    assert sorted(path.name for path in tmp_path.glob("*.db")) == [f"counter_{host}-0.db", f"histogram_{host}-0.db"]
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    assert value(scrape(), "nextalerts_messages_sent_total", outcome="sent") == 7  # counts carried on

    first = _writer(tmp_path, 5, "stay", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    second = None
    try:
        assert first.stdout.readline().strip() == "written"  # slot 0 is the first one's, before the second starts
        second = _writer(tmp_path, 6, "stay", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert second.stdout.readline().strip() == "written"
        assert value(scrape(), "nextalerts_messages_sent_total", outcome="sent") == 18  # two live slots, 0 and 1
        second.communicate(timeout=30)

        removed = metricsdir.prepare(tmp_path)  # as a group's start does

        assert sorted(removed) == [f"counter_{host}-1.db", f"histogram_{host}-1.db"]  # the ended one's only
        assert value(scrape(), "nextalerts_messages_sent_total", outcome="sent") == 12  # 3 + 4 + 5, slot 0's
    finally:
        for live in (first, second):
            if live is not None and live.poll() is None:
                live.communicate(timeout=30)


def test_an_empty_directory_variable_means_single_process_mode_and_writes_no_file(tmp_path):
    process = _writer(tmp_path / "unused", 1, cwd=tmp_path, env_dir="")
    assert process.wait(timeout=60) == 0
    assert list(tmp_path.rglob("*.db")) == []
