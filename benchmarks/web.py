"""Figures 3 and 4, through the real WSGI stack: gunicorn (sync workers, as in production) serving the product on
127.0.0.1, loaded by separate client processes (benchmarks.loadgen).

3. Signed message.finalized delivery reports for sent messages, per second, against a do-nothing view on the same
   server reached with the same signed requests.
4. STOP: time from posting a signed STOP to receiving its 2xx (the suppression is committed by then), on an idle
   server (the baseline) and while a campaign is sending (benchmarks.sendworker).
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from django.db import connection

from consent.models import Suppression
from messaging.models import Message

from .seed import SENDER, vacuum_analyze

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_SECONDS = 90  # for gunicorn to answer /healthz: its workers import the product, slowly on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, *, group: bool = False, grace: float = 10.0) -> None:
    """End a process this benchmark started (and, for gunicorn, its workers: its own process group)."""
    if proc.poll() is not None:
        return

    def send(sig):
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(5)


class Gunicorn:
    def __init__(self, *, workers: int, log_path: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.workers = workers
        self.proc = None

    def __enter__(self):
        command = [
            sys.executable, "-m", "gunicorn", "nextalerts.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "30", "--graceful-timeout", "5",
            "--worker-tmp-dir", "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
        ]  # fmt: skip
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()  # `with` runs __exit__ only once __enter__ has returned: stop the server that never answered
        raise SystemExit(f"gunicorn did not answer /healthz within {START_SECONDS}s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.proc is not None:
            _stop(self.proc, group=True)
        self.log.close()


@dataclass
class LoadResult:
    ok: int
    seconds: float
    statuses: dict
    errors: list
    latencies_ms: list = field(default_factory=list)
    acks: list = field(default_factory=list)
    exhausted: bool = False  # a client ran out of requests before its time was up

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _readline(proc: subprocess.Popen, deadline: float) -> str:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("a client process did not answer in time")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"a client process exited: {proc.stderr.read()[-2000:]}")
            return line


def run_clients(jobs: list[dict]) -> LoadResult:
    """Start one client process per job, wait until each has signed its requests, start them together, collect."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.loadgen"],
            cwd=ROOT,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in jobs
    ]
    try:
        for proc, job in zip(procs, jobs, strict=True):
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        deadline = time.monotonic() + 60
        for proc in procs:
            if _readline(proc, deadline).strip() != "ready":
                raise RuntimeError("a client process did not get ready")
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        deadline = time.monotonic() + max(job["seconds"] for job in jobs) + 60
        results = [json.loads(_readline(proc, deadline)) for proc in procs]
    finally:
        for proc in procs:
            _stop(proc, grace=5)
    statuses: dict[str, int] = {}
    for r in results:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return LoadResult(
        ok=sum(r["ok"] for r in results),
        seconds=max(r["finished"] for r in results) - min(r["started"] for r in results),
        statuses=statuses,
        errors=[e for r in results for e in r["errors"]],
        latencies_ms=[x for r in results for x in r["latencies_ms"]],
        acks=[a for r in results for a in r["acks"]],
        exhausted=any(r["exhausted"] for r in results),
    )


def _split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


# --- Figure 3 -----------------------------------------------------------------------------------------------------


def mark_sent(campaign_id: int, count: int) -> None:
    """Make `count` of the campaign's last queued messages sent, as if handed to Telnyx earlier: the delivery reports'
    subjects. Taken from the end of the queue, away from what figure 4's sending works through."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_message SET status = 'sent', provider_message_id = gen_random_uuid()::text, "
            "sent_at = now(), updated_at = now(), attempts = 1 WHERE id IN (SELECT id FROM campaigns_message "
            "WHERE campaign_id = %s AND status = 'queued' ORDER BY id DESC LIMIT %s)",
            [campaign_id, count],
        )
    vacuum_analyze("campaigns_message")  # as autovacuum would, before the reports arrive


def sent_messages() -> list[list[str]]:
    rows = Message.objects.filter(status=Message.Status.SENT).exclude(provider_message_id="").order_by("-id")
    return [list(r) for r in rows.values_list("provider_message_id", "phone_number")]


def _combine(results: list[LoadResult]) -> LoadResult:
    statuses: dict[str, int] = {}
    for r in results:
        for code, n in r.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
    return LoadResult(
        ok=sum(r.ok for r in results), seconds=sum(r.seconds for r in results), statuses=statuses,
        errors=[e for r in results for e in r.errors], exhausted=any(r.exhausted for r in results),
    )  # fmt: skip


def _apply_stored_reports() -> int:
    """The webhook stores each report and answers; a worker applies them in batches (here: this process, untimed)."""
    from messaging.webhooks import delivery_reports_apply_pending

    applied = 0
    while True:
        result = delivery_reports_apply_pending()
        applied += result["applied"]
        if not result["remaining"]:
            return applied


def webhook_throughput(
    server: Gunicorn, *, clients: int, seconds: float, rounds: int, log
) -> tuple[LoadResult, LoadResult, tuple[int, float]]:
    """Noop and webhook runs alternate, `rounds` of each, so that a slow moment of the machine hits both alike.
    Then the reports they stored are applied here, as one worker process would, timed: (reports, seconds)."""
    items = sent_messages()
    warm, items = items[:200], items[200:]

    def jobs(path, pool, secs):
        return [
            {"url": server.url + path, "kind": "finalized", "items": part, "seconds": secs}
            for part in _split(pool, clients)
        ]

    # Warm-up: each gunicorn worker imports lazily what the first requests need, and opens its first connections.
    run_clients(jobs("/bench/noop/", warm, 2))
    run_clients(jobs("/webhooks/telnyx/", warm, 2))
    _apply_stored_reports()
    delivered_before = Message.objects.filter(status=Message.Status.DELIVERED).count()

    noops, hookses = [], []
    for i in range(rounds):
        noops.append(run_clients(jobs("/bench/noop/", items, seconds)))
        # Each round reports on messages of its own: a second report for a message would take another path.
        hookses.append(run_clients(jobs("/webhooks/telnyx/", items[i::rounds], seconds)))
        log(
            f"  round {i + 1}/{rounds}: noop view {noops[-1].ok} x 2xx in {noops[-1].seconds:.2f}s, "
            f"delivery webhooks {hookses[-1].ok} x 2xx in {hookses[-1].seconds:.2f}s"
        )
    noop, hooks = _combine(noops), _combine(hookses)
    started = time.perf_counter()
    applied = _apply_stored_reports()
    apply_seconds = time.perf_counter() - started
    log(f"  applied {applied} stored reports afterwards in {apply_seconds:.2f}s (a worker's job)")
    delivered = Message.objects.filter(status=Message.Status.DELIVERED).count() - delivered_before
    if hooks.errors or noop.errors or delivered != hooks.ok:
        raise SystemExit(f"webhooks: {delivered} messages delivered for {hooks.ok} answers; errors {hooks.errors[:3]}")
    if noop.exhausted or hooks.exhausted:
        log("  (a client used up its requests before its time was up: raise --sent-for-webhooks)")
    return noop, hooks, (applied, apply_seconds)


# --- Figure 4 -----------------------------------------------------------------------------------------------------


def _stop_job(server: Gunicorn, phones: list[str], *, interval: float, seconds: float) -> dict:
    return {
        "url": server.url + "/webhooks/telnyx/", "kind": "stop", "to_number": SENDER,
        "items": [[p, p] for p in phones], "interval": interval, "seconds": seconds,
    }  # fmt: skip


def _check_stops(result: LoadResult, what: str) -> None:
    """Every acknowledged STOP left a suppression, and no campaign message was handed over after the 2xx."""
    if result.errors or result.ok != sum(result.statuses.values()):
        raise SystemExit(f"STOP ({what}): {result.statuses} {result.errors[:3]}")
    phones = [phone for phone, _ in result.acks]
    suppressed = Suppression.objects.filter(phone_number__in=phones, reason=Suppression.Reason.STOP).count()
    if suppressed != len(set(phones)):
        raise SystemExit(f"STOP ({what}): {len(phones)} acknowledged, {suppressed} suppressions")
    late = 0
    for phone, acked_at in result.acks:
        sent_at = Message.objects.filter(phone_number=phone, kind=Message.Kind.MARKETING, sent_at__isnull=False)
        late += sum(1 for t in sent_at.values_list("sent_at", flat=True) if t.timestamp() > acked_at)
    if late:
        raise SystemExit(f"STOP ({what}): {late} marketing message(s) handed over after their STOP was acknowledged")


def stop_latency(server: Gunicorn, campaign_id: int, now, *, idle_stops: int, stops: int, interval: float, log):
    queued = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED).order_by("id")
    head = list(queued.values_list("phone_number", flat=True)[: max(stops * 30, 6000)])
    # Idle: numbers that were sent the campaign already (a STOP usually answers a text just received).
    sent = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.SENT).order_by("id")
    idle_phones = list(sent.values_list("phone_number", flat=True)[:idle_stops])
    # Under load: numbers whose messages are still queued, spread over the stretch of the queue that the worker goes
    # through meanwhile: its sends to them must find the suppression (blocked), or the STOP waits for the send in hand.
    busy_phones = head[:: max(1, len(head) // stops)][:stops]

    bound = 10 + (idle_stops + stops) * interval * 4
    idle = run_clients([_stop_job(server, idle_phones, interval=interval, seconds=bound)])
    _check_stops(idle, "idle")
    log(f"  idle: {idle.ok} STOPs, p50 {percentile(idle.latencies_ms, 50):.1f} ms")

    worker = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sendworker", str(campaign_id), now.isoformat(), str(bound + 30)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        line = _readline(worker, time.monotonic() + 60).strip()
        if line != "sending":
            raise SystemExit(f"the send worker did not start: {line}")
        loaded = run_clients([_stop_job(server, busy_phones, interval=interval, seconds=bound)])
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            out, err = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            _stop(worker)
            out, err = "", "the send worker did not stop"
    try:
        sending = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"the send worker failed: {err[-2000:]}") from None
    _check_stops(loaded, "while sending")
    sent_meanwhile = sum(sending["statuses"].values())
    log(
        f"  while sending: {loaded.ok} STOPs, p50 {percentile(loaded.latencies_ms, 50):.1f} ms; the worker "
        f"handled {sent_meanwhile} messages at {sent_meanwhile / sending['seconds']:.0f}/s {sending['statuses']}"
    )
    return idle, loaded, sending
