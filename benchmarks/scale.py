"""The scale row: launching a campaign to a very large audience. Its business's subscribers are seeded by COPY (no
history: a first campaign), then a separate process launches it, so that its peak memory is the launch's own:

    python -m benchmarks.scale CAMPAIGN_ID NOW_ISO

It prints one JSON line: seconds from the fan-out's call until its commit (the audience frozen into Message rows),
seconds until its dispatch to the workers is done too, the rows written, its resident memory just before the launch
and its peak (VmHWM) after it. Run once per audience size: memory that grows with the audience shows as a peak that
grows from one size to the next.
"""

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass
class ScaleResult:
    audience: int
    rows: int
    frozen_seconds: float
    dispatched_seconds: float
    rss_before_kb: int
    rss_peak_kb: int

    @property
    def peak_mb(self) -> float:
        return self.rss_peak_kb / 1024

    @property
    def growth_mb(self) -> float:
        return (self.rss_peak_kb - self.rss_before_kb) / 1024


def _proc_status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Let VmHWM start again from the current resident size (Linux: clear_refs 5), so the peak is the launch's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


def seed_business(*, audience: int, slug: str):  # imports inside: `main` runs before Django is set up
    """A business with `audience` subscribed subscribers, written by COPY from a generator (nothing held in a list),
    and a campaign draft to all of them. Returns the campaign."""
    from django.db import connection

    from accounts.models import Business
    from campaigns import quiet_hours, services
    from nextalerts.phones import phone_hash
    from subscribers.models import SenderNumber

    from .seed import AREA_CODES, BODY, phone

    business = Business.objects.create(
        name=f"Scale {audience:,} (bench)", slug=slug, support_contact="help@example.com",
        time_zone="America/New_York",
    )  # fmt: skip
    sender = f"+1202{audience % 10_000_000:07d}"  # one number per scale business
    number = SenderNumber.objects.create(business=business, phone_number=sender, messages_per_second=1_000_000)
    profiles = {npa: quiet_hours.profile_for(f"+1{npa}2010000", fallback_tz=business.time_zone) for npa in AREA_CODES}
    joined = datetime.now(UTC) - timedelta(days=30)

    def rows():
        for i in range(audience):
            e164 = phone(i)
            yield (
                business.pk, e164, phone_hash(e164), "subscribed", "keyword", joined, number.pk,
                profiles[e164[2:5]], "", "", "", joined, joined,
            )  # fmt: skip

    columns = (
        "business_id", "phone_number", "phone_hash", "status", "opt_in_method", "opted_in_at", "number_id",
        "quiet_profile", "name", "email", "notes", "created_at", "updated_at",
    )  # fmt: skip
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY subscribers_subscriber ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
    if not raw.autocommit:
        raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subscribers_subscriber")
    return services.campaign_create(business=business, name="Everyone", body=BODY, sender_number=number)


def run(*, audience: int, now: datetime, log) -> ScaleResult:
    """Seed (untimed), then launch in a process of its own and read its figures."""
    import subprocess

    from campaigns import services

    from .web import ROOT

    started = time.perf_counter()
    campaign = seed_business(audience=audience, slug=f"bench-scale-{audience}")
    services.campaign_launch(campaign=campaign, now=now)  # draft -> sending; its launch task is never run
    log(f"  seeded {audience:,} subscribers by COPY in {time.perf_counter() - started:.1f}s; launching")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", str(campaign.pk), now.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the scale launch failed: {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    result = ScaleResult(audience=audience, **figures)
    log(
        f"  {result.rows:,} messages frozen in {result.frozen_seconds:.1f}s, dispatched by "
        f"{result.dispatched_seconds:.1f}s; memory {result.rss_before_kb / 1024:.0f} MB before, "
        f"peak {result.peak_mb:.0f} MB"
    )
    if result.rows != audience:
        raise SystemExit(f"the scale launch wrote {result.rows:,} messages for {audience:,} subscribers")
    return result


def main():
    import django

    django.setup()
    from django.db import transaction

    from campaigns import services
    from campaigns.models import Message

    campaign_id, now = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
    services.campaign_fan_out  # noqa: B018 - imported before the baseline is read
    Message.objects.filter(pk=0).exists()  # connected, and the ORM's first query compiled, before the baseline
    rss_before = _proc_status_kb("VmRSS")
    _reset_peak()
    stamps = {}
    start = time.perf_counter()
    with transaction.atomic():
        # Registered before the fan-out's own callback (the dispatch), so it runs first, right after COMMIT.
        transaction.on_commit(lambda: stamps.setdefault("committed", time.perf_counter()))
        services.campaign_fan_out(campaign_id=campaign_id, now=now)
    dispatched = time.perf_counter()
    rows = Message.objects.filter(campaign_id=campaign_id).count()
    print(json.dumps({
        "rows": rows, "frozen_seconds": stamps["committed"] - start, "dispatched_seconds": dispatched - start,
        "rss_before_kb": rss_before, "rss_peak_kb": _proc_status_kb("VmHWM"),
    }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
