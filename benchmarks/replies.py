"""Figure 5: replies first. The workers `make worker` starts (nextalerts.workers, on the benchmark's own queues and
Redis) send a campaign from one number at its real pace, 1 and then 2 messages/s; meanwhile recipients still waiting
for the campaign text it STOP to that number, one every few seconds, through gunicorn. Measured: from posting the
signed STOP to its confirmation arriving at the (fake) Telnyx server — the webhook, the reply task through Redis, the
worker, the number's rate limit and the SDK call. Target: p99 <= 5 s (the FCC allows 5 minutes).

Its business is its own (not the 100,000-subscriber one of figures 1-4), with a few hundred subscribers whose
sending window is open whenever the benchmark runs: the workers read the real clock.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from accounts.models import Business
from campaigns import services
from campaigns.models import Campaign
from nextalerts.phones import phone_hash
from subscribers.models import SenderNumber, Subscriber

from .web import Gunicorn, _stop, _stop_job, percentile, run_clients

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENDER = "+12025550188"
BODY = "Tony's Pizza: slow-cooked Sunday special, today only. Reply STOP to opt out"
WARM_UP_TEXTS = 3  # campaign texts handed over before the first STOP: the campaign is under way


@dataclass
class RateResult:
    rate: float | None  # None: no campaign sending (the baseline)
    latencies_s: list[float]
    campaign_sent: int  # campaign texts handed over while the STOPs came
    seconds: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies_s, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_s, 99)


def _noon_somewhere(now: datetime) -> str:
    """A quiet-hours profile whose window is open now: a fixed-offset zone where it is about noon."""
    offset = max(-12, min(12, now.astimezone(UTC).hour - 12))
    return f"8-21@Etc/GMT{offset:+d}"  # Etc/GMT+5 is UTC-5


def seed(audience: int) -> tuple[Business, SenderNumber]:
    business = Business.objects.create(
        name="Tony's Pizza replies (bench)", slug="bench-replies", support_contact="help@example.com",
        time_zone="America/New_York",
    )  # fmt: skip
    number = SenderNumber.objects.create(business=business, phone_number=SENDER, messages_per_second=1)
    joined = datetime.now(UTC) - timedelta(days=30)
    profile = _noon_somewhere(datetime.now(UTC))
    Subscriber.objects.bulk_create(
        Subscriber(
            business=business, phone_number=(e164 := f"+1617201{i:04d}"), phone_hash=phone_hash(e164),
            status=Subscriber.Status.SUBSCRIBED, opt_in_method=Subscriber.Method.KEYWORD, opted_in_at=joined,
            number=number, quiet_profile=profile,
        )
        for i in range(audience)
    )  # fmt: skip
    return business, number


def _fake_log(fake_url: str) -> list[dict]:
    with urllib.request.urlopen(fake_url.removesuffix("/v2") + "/_fake/log", timeout=10) as response:
        return json.load(response)["data"]


def _campaign_texts(fake_url: str) -> int:
    return sum(1 for entry in _fake_log(fake_url) if entry["body"].get("text") == BODY)


class Workers:
    """`python -m nextalerts.workers`, with the environment of the run (the benchmark's queues and settings)."""

    def __init__(self, log_path: str):
        self.log_path = log_path
        self.proc = None

    def __enter__(self):
        self.log = open(self.log_path, "w+")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nextalerts.workers"], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "LOG_LEVEL": "INFO"}, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the workers exited at start; see {self.log_path}")
            with open(self.log_path) as log:
                if log.read().count("ready.") >= 2:  # each Celery worker says "... ready." when it serves
                    return self
            time.sleep(0.2)
        raise SystemExit(f"the workers did not start within 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.proc is not None:
            _stop(self.proc, group=True, grace=20)
        self.log.close()


def _one_rate(server: Gunicorn, fake_url: str, business, number, rate, phones: list[str], *, interval, log):
    """STOPs while a campaign sends at `rate` messages/s; with rate None, on idle workers (the baseline)."""
    SenderNumber.objects.filter(pk=number.pk).update(messages_per_second=rate or 1)
    urllib.request.urlopen(urllib.request.Request(fake_url.removesuffix("/v2") + "/_fake/reset", data=b"{}"),
                           timeout=10).close()  # fmt: skip
    campaign = None
    if rate:
        with transaction.atomic():
            campaign = services.campaign_create(
                business=business, name=f"Sunday special at {rate:g}/s", body=BODY, sender_number=number
            )
            services.campaign_launch(campaign=campaign)  # the workers fan it out and send it
        deadline = time.monotonic() + 60
        while _campaign_texts(fake_url) < WARM_UP_TEXTS:
            if time.monotonic() > deadline:
                raise SystemExit(f"figure 5: the campaign at {rate:g}/s did not start sending within 60 s")
            time.sleep(0.2)
    what = f"at {rate:g}/s" if rate else "idle"

    before = _campaign_texts(fake_url)
    job = {**_stop_job(server, phones, interval=interval, seconds=len(phones) * interval + 60), "to_number": SENDER}
    stops = run_clients([job])
    if stops.errors or stops.ok != len(phones):
        raise SystemExit(f"figure 5 {what}: {stops.statuses} {stops.errors[:3]}")
    # Posted at: the 2xx's time less the request's own time.
    posted = {phone: acked - ms / 1000 for (phone, acked), ms in zip(stops.acks, stops.latencies_ms, strict=True)}
    deadline = time.monotonic() + 120
    while True:
        entries = _fake_log(fake_url)
        confirmed = {}
        for entry in entries:
            body = entry["body"]
            if body.get("to") in posted and body.get("text") != BODY and body.get("to") not in confirmed:
                if body.get("from") != SENDER:
                    raise SystemExit(f"figure 5: a confirmation went from {body.get('from')}, not the STOP's number")
                confirmed[body["to"]] = entry["received_at"]
        if len(confirmed) == len(posted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = sorted(set(posted) - set(confirmed))
    if missing:
        raise SystemExit(f"figure 5 {what}: {len(missing)} STOP(s) got no confirmation within 120 s")
    acked = dict(stops.acks)
    late = [e for e in entries if e["body"].get("text") == BODY and e["received_at"] > acked.get(e["body"]["to"], 1e18)]
    if late:
        raise SystemExit(f"figure 5 {what}: {len(late)} campaign text(s) to numbers that had said STOP")
    sent_meanwhile = _campaign_texts(fake_url) - before
    window = max(confirmed.values()) - min(posted.values())
    if campaign is not None:
        services.campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))
    result = RateResult(rate, [confirmed[p] - posted[p] for p in posted], sent_meanwhile, window)
    log(
        f"  {what}: {len(posted)} STOPs, confirmation p50 {result.p50:.2f} s, max {max(result.latencies_s):.2f}"
        f" s; {sent_meanwhile} campaign texts went meanwhile ({sent_meanwhile / window:.2f}/s)"
    )
    return result


def run(
    server: Gunicorn, fake_url: str, *, rates: tuple[float, ...], stops: int, idle_stops: int, interval: float, log
) -> tuple[RateResult, list[RateResult]]:
    """The baseline (`idle_stops` STOPs, no campaign), then `stops` STOPs at each rate."""
    # Enough recipients that the campaign outlasts the STOPs at the fastest rate, with room to spare.
    audience = int(max(rates) * (stops * interval + 60)) + stops * len(rates) + idle_stops + 100
    business, number = seed(audience)
    phones = list(Subscriber.objects.filter(business=business).order_by("-id").values_list("phone_number", flat=True))
    log_path = os.path.join(tempfile.gettempdir(), "nextalerts-bench-workers.log")
    results = []
    with Workers(log_path):
        idle = _one_rate(server, fake_url, business, number, None, phones[:idle_stops], interval=interval, log=log)
        phones = phones[idle_stops:]
        for i, rate in enumerate(rates):
            # The last recipients in the queue: their campaign text is still far off when they say STOP.
            mine = phones[i * stops : (i + 1) * stops]
            results.append(_one_rate(server, fake_url, business, number, rate, mine, interval=interval, log=log))
    return idle, results
