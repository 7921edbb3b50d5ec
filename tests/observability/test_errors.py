"""Errors reach Sentry (a fake Sentry HTTP endpoint) through sentry-sdk's real Django and Celery integrations, tagged
with the request or task id, and without a subscriber's phone number anywhere in what is sent."""

import json
import os
import subprocess
import sys

import pytest
import sentry_sdk
from django.conf import settings as django_settings
from django.test import Client

from campaigns.tasks import launch_campaign
from nextalerts import errors
from tests.helpers import process_running, product_env, wait_for
from tests.observability.sentry_server import FakeSentryServer

PHONE = "+12025550143"
DIGITS = b"2025550143"  # the number in any form: E.164, national, URL-encoded


@pytest.fixture(scope="module")
def sentry_server():
    with FakeSentryServer() as server:
        yield server


@pytest.fixture
def sentry(sentry_server):
    """sentry-sdk initialised as settings do with SENTRY_DSN set, for this test only: closed and unbound after it,
    so that no other test reports anywhere."""
    sentry_server.reset()
    errors.sentry_init(dsn=sentry_server.dsn(), environment="test", traces_sample_rate=0.0)
    try:
        yield sentry_server
    finally:
        client = sentry_sdk.get_client()
        client.flush(timeout=5)
        client.close()
        sentry_sdk.get_global_scope().set_client(None)
        assert not sentry_sdk.get_client().is_active()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"could not text {PHONE}", "could not text [phone]"),
        ("call (202) 555-0143 today", "call [phone] today"),
        ("+44 20 7946 0958", "[phone]"),
        ("202.555.0143", "[phone]"),
        ("q=%2B12025550143&page=2", "q=[phone]&page=2"),
        ("message 4242 of campaign 17", "message 4242 of campaign 17"),  # ids stay
        ("due 2026-12-08 00:20:00", "due 2026-12-08 00:20:00"),  # a date stays
        ("took 1234567 us", "took 1234567 us"),  # seven digits are not a number anyone is texted at
    ],
)
def test_phone_looking_runs_are_scrubbed_and_other_figures_kept(text, expected):
    assert errors.scrub(text) == expected


def test_before_send_scrubs_every_string_and_key_of_the_event_and_tags_the_request():
    event = {
        "exception": {"values": [{"type": "ValueError", "value": f"bad {PHONE}"}]},
        "request": {"data": {"to": PHONE, "numbers": [PHONE, "(202) 555-0143"]}, "query_string": "to=%2B12025550143"},
        "extra": {"decisions": {PHONE: "allowed"}},
        "breadcrumbs": {
            "values": [{"message": f"sms.send.blocked {PHONE}", "timestamp": "2026-12-07T22:59:56.466123Z"}]
        },
        "timestamp": "2026-12-07T22:59:56.466123Z",
        "contexts": {"trace": {"span_id": "b791b20255501430"}},
    }
    token = errors.current_request_id.set("req-1")
    try:
        sent = errors.before_send(event, {})
    finally:
        errors.current_request_id.reset(token)

    assert DIGITS.decode() not in json.dumps({part: sent[part] for part in errors.SCRUBBED_PARTS if part in sent})
    assert sent["extra"]["decisions"] == {"[phone]": "allowed"}
    assert sent["tags"] == {"request_id": "req-1"}
    assert sent["timestamp"] == sent["breadcrumbs"]["values"][0]["timestamp"] == "2026-12-07T22:59:56.466123Z"
    assert sent["contexts"]["trace"]["span_id"] == "b791b20255501430"


def test_an_unhandled_exception_in_a_view_reaches_sentry_with_the_request_id_and_no_phone_number(sentry, settings, db):
    settings.ROOT_URLCONF = "tests.observability.urls"
    response = Client(raise_request_exception=False).post(
        f"/test-failure/?to=%2B{PHONE[1:]}", data={"to": PHONE}, content_type="application/json",
        HTTP_X_REQUEST_ID="req-7f3a",
    )  # fmt: skip
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    [event] = sentry.wait_for_events(1)
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "could not text [phone]")
    assert event["tags"]["request_id"] == "req-7f3a" == response["X-Request-ID"]
    assert event["environment"] == "test"
    assert event["transaction"] == "/test-failure/"
    assert event["timestamp"].startswith("20") and ":" in event["timestamp"]  # the SDK's own fields are left alone
    assert not any(DIGITS in envelope["raw"] for envelope in sentry.envelopes), "a phone number reached Sentry"
    assert "user" not in event or "ip_address" not in event["user"]  # send_default_pii=False


def test_an_exception_in_a_celery_task_run_eagerly_reaches_sentry_with_the_task_id(sentry, db):
    # The campaign id is not a number: the task fails in its service, as a bad id from anywhere would.
    result = launch_campaign.apply(args=[f"to {PHONE}"])
    assert result.failed()
    sentry_sdk.flush(timeout=5)

    [event] = sentry.wait_for_events(1)
    exception = event["exception"]["values"][-1]  # the one raised (after the one it was raised from)
    assert exception["type"] == "ValueError" and "[phone]" in exception["value"]
    assert exception["mechanism"]["type"] == "celery"
    assert event["tags"]["task_id"] == result.id
    assert event["transaction"] == "campaigns.launch_campaign"
    assert not any(DIGITS in envelope["raw"] for envelope in sentry.envelopes)


@pytest.mark.integration
def test_an_exception_in_a_task_on_a_real_worker_reaches_sentry(sentry_server, celery_queues, redis_url, db):
    """A Celery worker process started with SENTRY_DSN: its settings initialise Sentry, and a failing task's event
    arrives from that process."""
    sentry_server.reset()
    default_queue, _reply_queue = celery_queues
    env = product_env(
        redis_url=redis_url, telnyx_base_url="http://127.0.0.1:9", queues=celery_queues,
        SENTRY_DSN=sentry_server.dsn("7"), SENTRY_ENVIRONMENT="worker-test",
    )  # fmt: skip
    command = [
        sys.executable, "-m", "celery", "-A", "nextalerts", "worker", f"--queues={default_queue}", "--pool=solo",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]  # fmt: skip
    with process_running(command, env=env, name="sentry-worker") as (_process, log):
        assert wait_for(lambda: "ready." in log.read_text(), timeout=60), "the worker did not start"
        result = launch_campaign.delay(f"to {PHONE}")
        events = sentry_server.wait_for_events(1, timeout=60)

    [event] = events
    assert [envelope["project"] for envelope in sentry_server.envelopes if envelope["items"]][0] == "7"
    assert event["environment"] == "worker-test"
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["tags"]["task_id"] == result.id
    assert not any(DIGITS in envelope["raw"] for envelope in sentry_server.envelopes)


def _settings_process(**env) -> subprocess.CompletedProcess:
    """A fresh process that loads the settings with `env` and says what sentry-sdk was given."""
    script = (
        "import json, django, sentry_sdk; django.setup(); client = sentry_sdk.get_client(); "
        "print(json.dumps({'active': client.is_active(), 'pii': client.should_send_default_pii(), "
        "'traces': client.options['traces_sample_rate'], 'environment': client.options['environment'], "
        "'integrations': sorted(client.integrations)}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    return subprocess.run(
        [sys.executable, "-c", script], env={**clean, "DJANGO_SETTINGS_MODULE": "nextalerts.settings.local", **env},
        cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_settings_initialise_sentry_only_when_a_dsn_is_set():
    off = _settings_process()
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["active"] is False

    on = _settings_process(SENTRY_DSN="http://key@127.0.0.1:9/1", SENTRY_ENVIRONMENT="staging")
    assert on.returncode == 0, on.stderr
    client = json.loads(on.stdout)
    assert client["active"] is True and client["pii"] is False and client["traces"] == 0.0
    assert client["environment"] == "staging"
    assert {"django", "celery"} <= set(client["integrations"])


def test_settings_refuse_a_traces_sample_rate_outside_0_to_1():
    refused = _settings_process(SENTRY_DSN="http://key@127.0.0.1:9/1", SENTRY_TRACES_SAMPLE_RATE="2")
    assert refused.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1" in refused.stderr
