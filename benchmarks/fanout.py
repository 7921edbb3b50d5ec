"""Figure 1: launching a campaign. campaign_fan_out (audience frozen into queued Message rows, committed) against
PostgreSQL COPY of the very same rows into the same table in the same state: the floor for writing them.

What is timed for the fan-out runs from the call to the commit of its transaction. Its on-commit hand-off to the
workers (campaign_dispatch: marking the rows dispatched and queueing one task per 100) is not: the call is wrapped
in an outer transaction whose first on-commit callback stops the clock, and the dispatch runs after it (its tasks
go to the benchmark's own queue, which nobody reads). COPY is timed the same way, from its first row to its commit.

The table holds the subscribers' own history (their keyword texts and confirmations) and nothing else when each
run starts: a run's rows are deleted and the table vacuumed and analyzed before the next. The fan-out is called at
a daytime instant for every subscriber (checked), so no message waits for quiet hours.
"""

import statistics
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.db import OperationalError, connection, transaction

from campaigns import services
from campaigns.models import Campaign
from messaging.models import Message
from nextalerts import quiet_hours

from .seed import BODY, World, conninfo, vacuum_analyze

FAN_OUT_LIMIT_SECONDS = 120
COLUMNS = (
    "business_id", "direction", "kind", "sender_number_id", "phone_number", "phone_hash", "body", "status",
    "campaign_id", "send_after", "dispatched_at", "provider_message_id", "error_code", "error_detail", "attempts",
    "cost_currency", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class FanOutResult:
    rows: int
    copy_seconds: list[float]
    fan_out_seconds: list[float]
    dispatch_seconds: float  # the untimed on-commit hand-off of the last run, for information
    campaign: Campaign

    @property
    def copy_rate(self) -> float:
        return self.rows / statistics.median(self.copy_seconds)

    @property
    def fan_out_rate(self) -> float:
        return self.rows / statistics.median(self.fan_out_seconds)


def _remove(campaign: Campaign) -> None:
    """Take a run's rows out again, so that each run writes into the same table: the subscribers' history only."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_message WHERE campaign_id = %s", [campaign.pk])
    vacuum_analyze("campaigns_message")


def _campaign(world: World, name: str) -> Campaign:
    return services.campaign_create(business=world.business, name=name, body=BODY, sender_number=world.number)


def _audience_rows(world: World, campaign: Campaign, now: datetime) -> list[tuple]:
    """The rows the fan-out writes, read before COPY's clock starts: subscribed and not suppressed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.phone_number, s.phone_hash FROM subscribers_subscriber s WHERE s.business_id = %s "
            "AND s.status = 'subscribed' AND NOT EXISTS (SELECT 1 FROM consent_suppression x "
            "WHERE x.business_id = s.business_id AND x.phone_hash = s.phone_hash) ORDER BY s.id",
            [world.business.pk],
        )
        audience = cursor.fetchall()
    b, n, c = world.business.pk, world.number.pk, campaign.pk
    return [
        (b, "outbound", "marketing", n, e164, digest, BODY, "queued", c, None, None, "", "", "", 0, "", now, now)
        for e164, digest in audience
    ]


def copy_once(rows: list[tuple]) -> float:
    with psycopg.connect(conninfo()) as conn:
        with conn.cursor() as cursor:
            start = time.perf_counter()
            with cursor.copy(f"COPY campaigns_message ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return time.perf_counter() - start


def fan_out_once(world: World, now: datetime, rows: int) -> tuple[float, float, Campaign]:
    campaign = _campaign(world, "Pizza night")
    services.campaign_launch(campaign=campaign, now=now)  # draft -> sending; its launch task is never run
    stamps = {}
    try:
        with transaction.atomic():
            # A bound on the run, before the clock starts: a fan-out planned badly can take many minutes.
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = '{FAN_OUT_LIMIT_SECONDS}s'")
            # Registered before the fan-out's own callback (the dispatch), so it runs first, right after COMMIT.
            transaction.on_commit(lambda: stamps.setdefault("committed", time.perf_counter()))
            start = time.perf_counter()
            services.campaign_fan_out(campaign_id=campaign.pk, now=now)
    except OperationalError as exc:
        raise SystemExit(
            f"campaign_fan_out did not finish within {FAN_OUT_LIMIT_SECONDS}s, so it writes fewer than "
            f"{rows / FAN_OUT_LIMIT_SECONDS:,.0f} rows/s ({str(exc).strip()})"
        ) from None
    done = time.perf_counter()
    return stamps["committed"] - start, done - stamps["committed"], campaign


def check_daytime(world: World, now: datetime) -> None:
    waiting = {npa: p for npa, p in world.profiles.items() if quiet_hours.next_send_time(p, now) is not None}
    if waiting:
        raise SystemExit(f"{now.isoformat()} is quiet hours for {waiting}: the fan-out must be measured in daytime")


def run(world: World, now: datetime, *, repeats: int, log) -> FanOutResult:
    check_daytime(world, now)
    copy_campaign = _campaign(world, "COPY floor")
    rows = _audience_rows(world, copy_campaign, now)
    copies, fan_outs, dispatch, campaign = [], [], 0.0, None
    for i in range(repeats):
        if campaign is not None:
            _remove(campaign)
        copies.append(copy_once(rows))
        _remove(copy_campaign)
        seconds, dispatch, campaign = fan_out_once(world, now, len(rows))
        fan_outs.append(seconds)
        log(
            f"  run {i + 1}/{repeats}: COPY {copies[-1]:.3f}s, fan-out {seconds:.3f}s "
            f"(its dispatch after the commit, not counted: {dispatch:.2f}s)"
        )
        made = Message.objects.filter(campaign=campaign).count()
        waiting = Message.objects.filter(campaign=campaign, send_after__isnull=False).count()
        if made != len(rows) or waiting:
            raise SystemExit(f"fan-out wrote {made} messages ({waiting} waiting for quiet hours); expected {len(rows)}")
    return FanOutResult(len(rows), copies, fan_outs, dispatch, campaign)
