"""`make run` alone does the time-based work: its command (nextalerts/localrun.py) starts the web server, a Celery
worker and beat on the embedded broker (files, no Redis), and then a scheduled campaign goes out at its time, a text
Telnyx refuses with 429 is sent again after Retry-After, and a delivery report posted to the webhook is applied.
Ctrl-C stops all three processes.

Real processes over real HTTP: the product's web server and worker talk to the fake Telnyx server of this test.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.services import api_token_create
from campaigns.models import Campaign
from devtools.fakes import signing
from messaging.models import Message
from subscribers.models import Subscriber
from tests.helpers import database_url, text_in, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONSUMER = "+12025550143"
BODY = "Tony's Pizza: 2-for-1 slices today. Reply STOP to opt out"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _afternoon_profile(now: datetime) -> str:
    """A quiet-hours key for a recipient whose local time is about 14:00 at `now` (a fixed-offset zone), so the
    campaign is due at once whatever hour the suite runs at."""
    offset = 14 - now.astimezone(UTC).hour  # hours east of UTC; Etc/GMT's sign is the POSIX one, reversed
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return f"8-21@{zone}"


class LocalRun:
    """`python -m nextalerts.localrun` with its output in a file."""

    def __init__(self, env, log_path):
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "w+")  # noqa: SIM115 (closed in stop())
        command = [sys.executable, "-m", "nextalerts.localrun", "--port", str(self.port), "--noreload", "--no-setup"]
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"^\s+(web|worker|beat)\s+pid (\d+)", self.output(), re.M)}

    def request(self, method, path, *, token=None, data=None, headers=None):
        body = None if data is None else (data if isinstance(data, bytes) else json.dumps(data).encode())
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")

    def ready(self) -> bool:
        try:
            status, _ = self.request("GET", "/healthz")
        except OSError:
            return False
        output = self.output()
        return status == 200 and " ready." in output and "beat: Starting" in output

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


@pytest.fixture
def local_run(tmp_path, fake_telnyx):
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env.update(
        DATABASE_URL=database_url(),
        LOCAL_BROKER_DIR=str(tmp_path / "broker"),  # the embedded default, in a folder of this test's own
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),  # likewise (make run's default: var/metrics)
        SMS_BACKEND="telnyx",
        TELNYX_API_KEY=settings.TELNYX_API_KEY,
        TELNYX_BASE_URL=fake_telnyx.base_url,
        TELNYX_PUBLIC_KEY=signing.TEST_PUBLIC_KEY,
        # Beat looks for due work every second instead of every 30, so that the retry does not take half a minute.
        SCHEDULER_INTERVAL_SECONDS="1",
        DJANGO_SETTINGS_MODULE="nextalerts.settings.local",
    )
    run = LocalRun(env, tmp_path / "localrun.log")
    try:
        assert wait_for(run.ready, timeout=120), f"make run's processes did not start:\n{run.output()}"
        yield run
    finally:
        run.stop()
        print(run.output())  # shown by pytest if the test failed


@pytest.fixture
def audience(tenant_a, fake_telnyx):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    Subscriber.objects.filter(business=tenant_a.business).update(quiet_profile=_afternoon_profile(timezone.now()))
    fake_telnyx.reset()
    return tenant_a


def test_make_run_alone_sends_a_scheduled_campaign_on_time_and_retries_a_429(audience, fake_telnyx, local_run):
    _token, secret = api_token_create(user=audience.admin.user, business=audience.business)
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", retry_after=2)
    send_at = timezone.now() + timedelta(seconds=10)
    status, campaign = local_run.request(
        "POST", "/api/v1/campaigns/", token=secret,
        data={"name": "Lunch", "body": BODY, "number": audience.number.pk, "send_at": send_at.isoformat()},
    )  # fmt: skip
    assert status == 201, campaign
    status, launched = local_run.request("POST", f"/api/v1/campaigns/{campaign['id']}/launch/", token=secret)
    assert (status, launched["status"]) == (202, "scheduled")

    # Refused once with 429, then sent again by the worker once Retry-After has passed.
    assert wait_for(lambda: len(fake_telnyx.messages()) == 2, timeout=60), fake_telnyx.messages()
    assert wait_for(lambda: Message.objects.get(campaign_id=campaign["id"]).status == Message.Status.SENT, 10)
    message = Message.objects.get(campaign_id=campaign["id"])
    launch = Campaign.objects.get(pk=campaign["id"]).launched_at
    assert send_at <= launch < send_at + timedelta(seconds=60), "launched within a minute of its time"
    assert message.attempts == 2 and message.error_code == "10011"
    first, second = fake_telnyx.state.requests[-2:]
    assert second.received_at - first.received_at >= 2, "the retry waited for Retry-After"
    assert [m["to"] for m in fake_telnyx.messages()] == [CONSUMER, CONSUMER]
    # The worker's attempts show in the web server's /metrics: make run's processes share one metrics directory.
    with urllib.request.urlopen(f"{local_run.base_url}/metrics", timeout=30) as response:
        scraped = response.read().decode()
    for outcome in ("deferred", "sent"):  # the 429, then the retry
        assert re.search(rf'^nextalerts_messages_sent_total{{outcome="{outcome}"}} 1\.0$', scraped, re.M), scraped

    # Telnyx reports the delivery to the webhook; the worker applies the stored report.
    event = signing.message_finalized(provider_message_id=message.provider_message_id, to_number=CONSUMER)
    report = signing.dumps(event)
    headers = {
        name.removeprefix("HTTP_").replace("_", "-").title(): value for name, value in signing.sign(report).items()
    }
    status, _ = local_run.request("POST", "/webhooks/telnyx/", data=report.encode(), headers=headers)
    assert status == 202
    assert wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.DELIVERED, timeout=30)


def test_make_run_prints_what_it_starts_and_ctrl_c_stops_all_of_it(tenant_a, local_run):
    output = local_run.output()
    assert f"Starting NextAlerts at {local_run.base_url}" in output
    # The links it builds follow the port it serves on.
    _token, secret = api_token_create(user=tenant_a.admin.user, business=tenant_a.business)
    status, code = local_run.request(
        "POST", "/api/v1/qr-codes/", token=secret,
        data={"label": "Door", "number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk},
    )  # fmt: skip
    assert status == 201 and code["url"].startswith(f"{local_run.base_url}/q/"), code
    pids = local_run.pids()
    assert set(pids) == {"web", "worker", "beat"}
    assert "Press Ctrl-C to stop them all." in output

    local_run.stop()
    assert local_run.process.returncode == 0
    for name, pid in pids.items():
        assert wait_for(lambda pid=pid: not _alive(pid), timeout=5), f"the {name} process outlived Ctrl-C"
    assert "Stopped." in local_run.output()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for every purpose here.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
