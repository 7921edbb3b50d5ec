"""Figure 2: one worker's send throughput. messages_send, in the workers' batches of 100, over queued marketing
messages of the launched campaign, through SMS_BACKEND=telnyx (the real SDK) to the fake Telnyx server in its own
process; against the same SDK calls (`client.messages.send`, the payload the backend builds) with no database.

It is measured twice. First right after the launch, while PostgreSQL's statistics still describe the table before
100,000 queued rows arrived (as they do in production until autovacuum's next ANALYZE, up to a minute or so later),
over a few hundred messages; then, the figure, after VACUUM ANALYZE, as autovacuum would leave it (on a server with
autovacuum off the benchmark runs it itself). Each run starts after an untimed warm-up.
"""

import time
from dataclasses import dataclass
from datetime import datetime

import telnyx
from django.conf import settings

from campaigns.models import Campaign
from messaging import services
from messaging.models import Message

from .seed import BODY, SENDER, vacuum_analyze

WARM_UP = 100
SEND_LIMIT_SECONDS = 120  # a bound on each timed run


@dataclass
class SendResult:
    count: int
    sdk_seconds: float
    send_seconds: float
    stale_count: int
    stale_seconds: float

    @property
    def sdk_rate(self) -> float:
        return self.count / self.sdk_seconds

    @property
    def send_rate(self) -> float:
        return self.count / self.send_seconds

    @property
    def stale_rate(self) -> float:
        return self.stale_count / self.stale_seconds


def sdk_baseline(phones: list[str]) -> float:
    """Seconds for len(phones) - WARM_UP bare SDK sends, after WARM_UP untimed ones."""
    client = telnyx.Telnyx(
        api_key=settings.TELNYX_API_KEY, base_url=settings.TELNYX_BASE_URL, timeout=settings.TELNYX_TIMEOUT_SECONDS,
        max_retries=0,
    )  # fmt: skip

    def send(key, to):
        response = client.messages.send(from_=SENDER, to=to, text=BODY, idempotency_key=f"bench-sdk-{key}")
        assert response.data.id

    for i, to in enumerate(phones[:WARM_UP]):
        send(f"w{i}", to)
    start = time.perf_counter()
    for i, to in enumerate(phones[WARM_UP:]):
        send(i, to)
    return time.perf_counter() - start


def _send(ids: list[int], now: datetime) -> float:
    """messages_send over `ids` in the workers' batches; every one must end sent."""
    statuses: dict[str, int] = {}
    start = time.perf_counter()
    for i in range(0, len(ids), services.BATCH_SIZE):
        for status, n in services.messages_send(message_ids=ids[i : i + services.BATCH_SIZE], now=now).items():
            statuses[status] = statuses.get(status, 0) + n
        if time.perf_counter() - start > SEND_LIMIT_SECONDS:
            done = i + services.BATCH_SIZE
            raise SystemExit(
                f"messages_send took over {SEND_LIMIT_SECONDS}s for {done} messages ({done / SEND_LIMIT_SECONDS:.0f}/s "
                f"or less); stopped there: lower --send-count to measure it"
            )
    seconds = time.perf_counter() - start
    if statuses != {Message.Status.SENT: len(ids)}:
        raise SystemExit(f"messages_send ended with {statuses}; expected {len(ids)} sent")
    return seconds


def run(campaign: Campaign, now: datetime, *, count: int, stale_count: int, log) -> SendResult:
    queued = Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).order_by("id")
    rows = list(queued.values_list("pk", "phone_number")[: WARM_UP + stale_count + count])
    ids = [pk for pk, _ in rows]
    sdk_seconds = sdk_baseline([phone for _, phone in rows[: WARM_UP + count]])
    log(f"  bare SDK: {count:,} sends in {sdk_seconds:.2f}s")

    _send(ids[:WARM_UP], now)
    stale_seconds = _send(ids[WARM_UP : WARM_UP + stale_count], now)
    log(f"  right after the launch (statistics not refreshed yet): {stale_count:,} messages in {stale_seconds:.2f}s")
    vacuum_analyze("campaigns_message")
    send_seconds = _send(ids[WARM_UP + stale_count :], now)
    log(f"  after ANALYZE: {count:,} messages in {send_seconds:.2f}s")
    return SendResult(count, sdk_seconds, send_seconds, stale_count, stale_seconds)
