"""`make bench`: the send pipeline and the STOP path, each row a ratio or a rate against a baseline of the same run.

Rows, by the names they keep from run to run (`--only` picks some; all by default):
  1 launch fan-out                   campaign_fan_out of a 100,000-message audience vs PostgreSQL COPY (>= 0.85 x COPY)
  2 send                             one worker's messages_send through the telnyx SDK vs bare SDK calls (>= 1,000/s)
  3 delivery webhooks                signed delivery-report webhooks through gunicorn vs a do-nothing view (>= 0.5 x)
  delivery reports applied           the stored reports of row 3 applied by one process (>= 5,000 reports/s)
  STOP → 2xx p99 while sending       STOP webhook -> 2xx while a campaign sends, vs an idle server (p99 <= 50 ms)
  5 STOP->confirmation               STOP -> its confirmation at the provider through `make worker`'s workers while a
                                     campaign sends from the same number at 1 and 2 messages/s (p99 <= 5 s)
  scale: 1,000,000-recipient launch  seconds until a COPY-seeded audience is frozen into Message rows, and the peak
                                     memory of the launching process, also at 100,000 (<= 30 s, memory flat)

PostgreSQL only (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/nextalerts_bench, created and migrated if
missing, and emptied: its name must contain "bench", or be given to --empty-database). REDIS_URL defaults to
redis://127.0.0.1:6379/0 when that answers. Everything listens on and talks to 127.0.0.1 only; every process it
starts is stopped before it exits.
"""

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nextalerts_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# The queues of every task the run queues, its own: nothing reaches a worker of the product's queues on the same Redis.
BENCH_QUEUE, BENCH_REPLY_QUEUE = "nextalerts-bench", "nextalerts-bench-replies"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# --only's names: 1 fan-out, 2 send, 3 webhooks, applied (the reports row 3 stored), 4 STOP p99, 5 replies, scale.
ROWS = ("1", "2", "3", "applied", "4", "5", "scale")
# Targets (issue 15, item 6).
FAN_OUT_TARGET, WEBHOOK_TARGET, APPLY_TARGET, STOP_P99_TARGET_MS, SCALE_TARGET_SECONDS = 0.85, 0.5, 5_000, 50, 30


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--messages", type=int, default=100_000, help="messages the campaign launch writes (figure 1)")
    add("--repeats", type=int, default=3, help="COPY and fan-out runs; the median of each is reported")
    add("--send-count", type=int, default=4_000, help="messages sent by the worker and by the bare SDK (figure 2)")
    add("--stale-send-count", type=int, default=300, help="messages sent right after the launch, before ANALYZE")
    add("--sent-for-webhooks", type=int, default=30_000, help="sent messages the delivery reports are about")
    add("--workers", type=int, default=3, help="gunicorn sync workers (3: the production image's WEB_CONCURRENCY)")
    add("--clients", type=int, default=4, help="load-generating client processes (figure 3)")
    add("--http-seconds", type=float, default=4.0, help="length of each of figure 3's runs")
    add("--http-rounds", type=int, default=4, help="figure 3's noop and webhook runs, alternating")
    add("--idle-stops", type=int, default=100, help="STOPs on the idle server (figure 4's baseline)")
    add("--stops", type=int, default=200, help="STOPs while the campaign sends (figure 4)")
    add("--stop-interval", type=float, default=0.05, help="seconds between STOPs (one client, one at a time)")
    add("--reply-rates", default="1,2", help="figure 5: the number's rates (messages/s) the campaign sends at")
    add("--reply-stops", type=int, default=30, help="figure 5: STOPs at each rate")
    add("--reply-idle-stops", type=int, default=10, help="figure 5: STOPs with no campaign (the baseline)")
    add("--reply-interval", type=float, default=2.0, help="figure 5: seconds between STOPs")
    add("--scale-sizes", default="100000,1000000", help="the scale row's audiences, comma-separated, largest last")
    add("--only", default=",".join(ROWS), help=f"the rows to measure, comma-separated, of: {', '.join(ROWS)}")
    add("--empty-database", default="", metavar="NAME",
        help="run on (and empty) this database although its name lacks 'bench'")  # fmt: skip
    args = parser.parse_args(argv)
    args.only = {r.strip() for r in args.only.split(",") if r.strip()}
    if not args.only or args.only - set(ROWS):
        parser.error(f"--only: comma-separated, of {', '.join(ROWS)} (got {', '.join(sorted(args.only)) or 'none'})")
    try:
        args.scale_sizes = tuple(int(n) for n in args.scale_sizes.split(","))
    except ValueError:
        args.scale_sizes = ()
    if not args.scale_sizes or min(args.scale_sizes) < 1000:
        parser.error("--scale-sizes: audiences of 1000 or more, comma-separated (e.g. 100000,1000000)")
    counts = (
        args.repeats,
        args.clients,
        args.workers,
        args.http_rounds,
        args.idle_stops,
        args.stops,
        args.stale_send_count,
        args.reply_stops,
        args.reply_idle_stops,
    )
    if min(counts) < 1:
        parser.error(
            "--repeats, --clients, --workers, --http-rounds, --idle-stops, --stops, --stale-send-count, "
            "--reply-stops and --reply-idle-stops: 1 or more"
        )
    try:
        args.reply_rates = tuple(float(r) for r in args.reply_rates.split(","))
    except ValueError:
        args.reply_rates = ()
    if not args.reply_rates or min(args.reply_rates) <= 0 or max(args.reply_rates) > 100:
        parser.error("--reply-rates: messages per second, comma-separated, each above 0 and at most 100 (e.g. 1,2)")
    if args.messages < 1000 or args.send_count < 100:
        parser.error("--messages must be 1000 or more, --send-count 100 or more")
    return args


def log(message: str) -> None:
    print(message, flush=True)


# --- Environment --------------------------------------------------------------------------------------------------


def _redis_ping(url: str) -> str | None:
    """The server's version when it answers within a second, else None."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return client.info("server").get("redis_version", "?")
    except (redis.RedisError, OSError, ValueError):
        return None


def configure_environment(allowed: str = "") -> dict:
    """Set the variables every process of the run shares (they inherit them), before Django reads its settings."""
    from devtools.fakes.signing import TEST_PUBLIC_KEY

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"make bench measures PostgreSQL, and DATABASE_URL={url} is {parsed.scheme or 'not a URL'}: "
            "SQLite figures would say nothing about production. Unset DATABASE_URL to use "
            f"{DEFAULT_DATABASE_URL}, or point it at a PostgreSQL database."
        )
    name = parsed.path.lstrip("/")
    if "bench" not in name and name != allowed:
        sys.exit(
            f"make bench empties the database it runs on, and {name!r} does not look like a benchmark database: "
            "use one whose name contains 'bench' (the default is nextalerts_bench), or name it with --empty-database."
        )
    redis_url = os.environ.get("REDIS_URL")
    if redis_url is None:
        redis_url = DEFAULT_REDIS_URL if _redis_ping(DEFAULT_REDIS_URL) else ""
    redis_version = _redis_ping(redis_url) if redis_url else None
    if redis_url and redis_version is None:
        sys.exit(f"REDIS_URL={redis_url} does not answer; start Redis, or set REDIS_URL= to run without it.")
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        # The production settings (benchmarks/settings.py; no debug query log), with fixed keys only ever used here.
        SECRET_KEY="bench-only-secret-key-not-for-production-0123456789abcdef",
        PHONE_HASH_KEY="bench-only-phone-hash-key-not-for-production-0123456789",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on 127.0.0.1, no TLS proxy in front
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SMS_BACKEND="telnyx",
        TELNYX_API_KEY="KEY_TEST",
        TELNYX_PUBLIC_KEY=TEST_PUBLIC_KEY,
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        CELERY_DEFAULT_QUEUE=BENCH_QUEUE,
        CELERY_REPLY_QUEUE=BENCH_REPLY_QUEUE,
    )
    return {"redis": f"Redis {redis_version}" if redis_version else "no Redis (in-process rate limiter)"}


def start_fake_telnyx() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_telnyx", "KEY_TEST"], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    line = proc.stdout.readline().strip() if ready else ""
    if not line.startswith("http://127.0.0.1:"):
        proc.kill()
        sys.exit(f"the fake Telnyx server did not start ({line!r})")
    return proc, line


def reset_fake_telnyx(base_url: str) -> None:
    """Forget the requests it recorded (it keeps every one), so that its memory stays small."""
    request = urllib.request.Request(base_url.removesuffix("/v2") + "/_fake/reset", data=b"{}", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def stop_fake_telnyx(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def delete_bench_queues() -> None:
    """The tasks the measured code queued (launch, dispatch, STOP confirmations) are not meant to run: before figure 5
    starts its workers, and at the end."""
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        queues = (BENCH_QUEUE, BENCH_REPLY_QUEUE)
        redis.Redis.from_url(url, socket_timeout=5).delete(*queues, *(f"_kombu.binding.{q}" for q in queues))


# --- Report -------------------------------------------------------------------------------------------------------


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def table(header: str, rows: list[tuple]) -> str:
    columns = ("row", "conditions", "measured", "baseline (same run)", "ratio", "target", "met")
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [header, "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def reply_rows(replies) -> list[tuple]:
    if replies is None:
        return [("5 STOP->confirmation", "", "not measured", "needs Redis (REDIS_URL)", "-", "p99 <= 5 s", "-")]
    idle, loaded = replies
    out = []
    for r in loaded:
        sending = f"{r.campaign_sent / r.seconds:.1f}/s"
        out += [
            ("5 STOP->confirmation p50", f"{r.rate:g}/s number, sending {sending}", f"{r.p50:.2f} s",
             f"no campaign {idle.p50:.2f} s", f"{r.p50 / idle.p50:.2f}", "(none)", "-"),
            ("5 STOP->confirmation p99", f"{r.rate:g}/s number, n={len(r.latencies_s)}, idle n={len(idle.latencies_s)}",
             f"{r.p99:.2f} s", f"no campaign {idle.p99:.2f} s", f"{r.p99 / idle.p99:.2f}", "p99 <= 5 s",
             _yes(r.p99 <= 5)),
        ]  # fmt: skip
    return out


def fan_out_rows(fan) -> list[tuple]:
    ratio = fan.fan_out_rate / fan.copy_rate
    return [
        ("1 launch fan-out", f"{fan.rows:,} msgs, median of {len(fan.fan_out_seconds)}",
         f"{fan.fan_out_rate:,.0f} rows/s", f"COPY {fan.copy_rate:,.0f} rows/s", f"{ratio:.2f}",
         f">= {FAN_OUT_TARGET} x COPY", _yes(ratio >= FAN_OUT_TARGET)),
    ]  # fmt: skip


def send_rows(send) -> list[tuple]:
    sdk = f"bare SDK {send.sdk_rate:,.0f} msg/s"
    return [
        ("2 send", f"1 worker, {send.count:,} msgs", f"{send.send_rate:,.0f} msg/s", sdk,
         f"{send.send_rate / send.sdk_rate:.2f}", ">= 1,000 msg/s", _yes(send.send_rate >= 1000)),
        ("2 send, right after launch", f"1 worker, {send.stale_count:,} msgs", f"{send.stale_rate:,.0f} msg/s", sdk,
         f"{send.stale_rate / send.sdk_rate:.2f}", ">= 1,000 msg/s", _yes(send.stale_rate >= 1000)),
    ]  # fmt: skip


def webhook_rows(args, noop, hooks) -> list[tuple]:
    ratio = hooks.rate / noop.rate
    return [
        ("3 delivery webhooks", f"{args.clients} clients, {args.workers} gunicorn workers", f"{hooks.rate:,.0f} req/s",
         f"noop view {noop.rate:,.0f} req/s", f"{ratio:.2f}", f">= {WEBHOOK_TARGET} x noop",
         _yes(ratio >= WEBHOOK_TARGET)),
    ]  # fmt: skip


def applied_rows(applied) -> list[tuple]:
    count, seconds = applied
    rate = count / seconds if seconds else 0.0
    return [
        ("delivery reports applied", f"1 process, {count:,} stored reports", f"{rate:,.0f} reports/s", "-", "-",
         f">= {APPLY_TARGET:,} reports/s", _yes(rate >= APPLY_TARGET)),
    ]  # fmt: skip


def stop_rows(idle, loaded, sending_meanwhile) -> list[tuple]:
    from .web import percentile as p

    idle50, idle99 = p(idle.latencies_ms, 50), p(idle.latencies_ms, 99)
    load50, load99 = p(loaded.latencies_ms, 50), p(loaded.latencies_ms, 99)
    worker_rate = sum(sending_meanwhile["statuses"].values()) / sending_meanwhile["seconds"]
    return [
        ("STOP → 2xx p99 while sending", f"sending {worker_rate:,.0f}/s, n={loaded.ok}, idle n={idle.ok}",
         f"{load99:.1f} ms", f"idle {idle99:.1f} ms", f"{load99 / idle99:.2f}", f"<= {STOP_P99_TARGET_MS} ms",
         _yes(load99 <= STOP_P99_TARGET_MS)),
        ("  STOP → 2xx p50 while sending", "", f"{load50:.1f} ms", f"idle {idle50:.1f} ms", f"{load50 / idle50:.2f}",
         "(none)", "-"),
    ]  # fmt: skip


def scale_rows(results) -> list[tuple]:
    """The largest audience is the row; the smallest is its baseline for memory: what the launch adds to its process
    must not grow with the audience (met: at most 25% and 5 MB above what the smallest audience added)."""
    smallest, out = results[0], []
    for r in reversed(results):
        flat = r.growth_mb <= smallest.growth_mb * 1.25 + 5
        met = r.frozen_seconds <= SCALE_TARGET_SECONDS and flat
        out.append(
            (f"scale: {r.audience:,}-recipient launch", "seeded by COPY; frozen = Message rows committed",
             f"{r.frozen_seconds:.1f} s frozen, peak {r.peak_mb:.0f} MB (+{r.growth_mb:.0f} MB)",
             f"{smallest.audience:,}: +{smallest.growth_mb:.0f} MB", f"{r.growth_mb / max(smallest.growth_mb, 1):.2f}",
             f"<= {SCALE_TARGET_SECONDS} s, memory flat", _yes(met)),
        )  # fmt: skip
        out.append(
            ("  same, dispatched", "frozen + queued to the workers", f"{r.dispatched_seconds:.1f} s",
             f"{r.rows / r.frozen_seconds:,.0f} rows/s frozen", "-", "(none)", "-"),
        )  # fmt: skip
    return out


def main(argv=None):
    args = parse_args(argv)
    only = args.only
    web_rows, stop_row = {"3", "applied"} & only, "4" in only
    began = time.monotonic()
    notes = configure_environment(args.empty_database)
    fake, fake_url = start_fake_telnyx()
    os.environ["TELNYX_BASE_URL"] = fake_url
    figures = []
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from . import fanout, replies, scale, seed, sending, web

        created = seed.create_database_if_missing()
        db = settings.DATABASES["default"]
        log(f"Database {db['NAME']} on {db.get('HOST') or 'localhost'}{' (created)' if created else ''}; migrating")
        seed.reset_database()
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            autovacuum = cursor.fetchone()[0]
            pg_version = cursor.connection.info.parameter_status("server_version")
        now = seed.daytime_instant()
        if only & {"1", "2", "3", "applied", "4"}:
            suppressed, opted_out = 500, 2_000
            t = time.monotonic()
            world = seed.seed(
                audience=args.messages + suppressed, suppressed_subscribed=suppressed, opted_out=opted_out
            )
            log(
                f"Seeded {world.audience + opted_out:,} subscribers and their opt-in texts in "
                f"{time.monotonic() - t:.1f}s: {world.audience:,} subscribed ({suppressed} of them on the do-not-text "
                f"list), {opted_out:,} opted out; {len(world.profiles)} area codes; the instant used is "
                f"{now:%Y-%m-%d %H:%M} UTC"
            )
            # The other rows need the launched campaign: one untimed-in-effect run when row 1 is not asked for.
            repeats = args.repeats if "1" in only else 1
            log(f"1. Fan-out of {world.expected_messages:,} messages vs COPY, {repeats} runs each")
            fan = fanout.run(world, now, repeats=repeats, log=log)
            if "1" in only:
                figures += fan_out_rows(fan)

        if "2" in only:
            log("2. One worker sending marketing messages vs the bare SDK calls")
            send = sending.run(fan.campaign, now, count=args.send_count, stale_count=args.stale_send_count, log=log)
            reset_fake_telnyx(fake_url)
            figures += send_rows(send)

        if web_rows or stop_row or "5" in only:
            if web_rows:
                web.mark_sent(fan.campaign.pk, args.sent_for_webhooks)
            log_path = os.path.join(tempfile.gettempdir(), "nextalerts-bench-gunicorn.log")
            with web.Gunicorn(workers=args.workers, log_path=log_path) as server:
                if web_rows:
                    log(f"3. Delivery-report webhooks vs a noop view: gunicorn, {args.workers} sync workers, "
                        f"{args.clients} client processes; then the stored reports applied")  # fmt: skip
                    noop, hooks, applied = web.webhook_throughput(
                        server, clients=args.clients, seconds=args.http_seconds, rounds=args.http_rounds, log=log
                    )
                    figures += (webhook_rows(args, noop, hooks) if "3" in only else []) + (
                        applied_rows(applied) if "applied" in only else []
                    )
                if stop_row:
                    log(f"4. STOP latency: {args.idle_stops} on the idle server, then {args.stops} while the "
                        "campaign sends")  # fmt: skip
                    idle, loaded, sending_meanwhile = web.stop_latency(
                        server, fan.campaign.pk, now, idle_stops=args.idle_stops, stops=args.stops,
                        interval=args.stop_interval, log=log,
                    )  # fmt: skip
                    figures += stop_rows(idle, loaded, sending_meanwhile)
                if "5" in only:
                    reply_figures = None
                    if os.environ.get("REDIS_URL"):
                        log(f"5. STOP -> confirmation at the provider, through the workers, while a campaign sends "
                            f"at {', '.join(f'{r:g}' for r in args.reply_rates)} messages/s")  # fmt: skip
                        delete_bench_queues()  # what the rows before queued is not for these workers
                        reply_figures = replies.run(
                            server, fake_url, rates=args.reply_rates, stops=args.reply_stops,
                            idle_stops=args.reply_idle_stops, interval=args.reply_interval, log=log,
                        )  # fmt: skip
                    else:
                        log("5. skipped: the workers need Redis (set REDIS_URL)")
                    figures += reply_rows(reply_figures)

        if "scale" in only:
            log(f"Scale: launches to {', '.join(f'{n:,}' for n in args.scale_sizes)} recipients, each in a process "
                "of its own")  # fmt: skip
            results = []
            for audience in args.scale_sizes:
                results.append(scale.run(audience=audience, now=now, log=log))
                delete_bench_queues()  # the dispatch's tasks are not meant to run
            figures += scale_rows(results)
    finally:
        stop_fake_telnyx(fake)
        delete_bench_queues()

    header = (
        f"\nNextAlerts benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} CPU cores, "
        f"PostgreSQL {pg_version} (autovacuum {autovacuum}), {notes['redis']}, Python {sys.version.split()[0]}, "
        f"CONN_MAX_AGE={db.get('CONN_MAX_AGE')}; total {time.monotonic() - began:.0f}s"
    )
    log(table(header, figures))


if __name__ == "__main__":
    main()
