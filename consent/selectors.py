"""Consent reads: the ledger's integrity, and the figures of the dashboard's overview and compliance pages."""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Business
from nextalerts.phones import phone_hash
from subscribers.models import Subscriber

from .models import ConsentEvent, Suppression


@dataclass(frozen=True)
class LedgerBreak:
    business_id: int
    sequence: int
    problem: str


def ledger_verify(*, business_ids=None, chunk_size=2000) -> list[LedgerBreak]:
    """Walk each business's chain in order; report every row whose hash, link or sequence is wrong."""
    breaks = []
    queryset = ConsentEvent.objects.order_by("business_id", "sequence")
    if business_ids:
        queryset = queryset.filter(business_id__in=business_ids)
    current, expected_seq, prev_hash = None, 1, ConsentEvent.GENESIS
    for event in queryset.iterator(chunk_size=chunk_size):
        if event.business_id != current:
            current, expected_seq, prev_hash = event.business_id, 1, ConsentEvent.GENESIS
        if event.sequence != expected_seq:
            breaks.append(LedgerBreak(current, event.sequence, f"expected sequence {expected_seq}: rows are missing"))
        if event.prev_hash != prev_hash:
            breaks.append(LedgerBreak(current, event.sequence, "does not link to the previous row"))
        if event.compute_hash() != event.row_hash:
            breaks.append(LedgerBreak(current, event.sequence, "content does not match its hash: the row was edited"))
        expected_seq, prev_hash = event.sequence + 1, event.row_hash
    return breaks


# --- The dashboard's overview and compliance pages ------------------------------------------------------------------

OPT_IN_KINDS = (ConsentEvent.Kind.OPT_IN, ConsentEvent.Kind.CONFIRM)  # a web form's opt-in is its confirming YES
JOIN_METHODS = (ConsentEvent.Method.KEYWORD, ConsentEvent.Method.QR_CODE, ConsentEvent.Method.WEB_FORM)


@dataclass(frozen=True)
class DayCount:
    day: date
    opt_ins: int
    opt_outs: int


@dataclass(frozen=True)
class ConsentActivity:
    days: list[DayCount]  # oldest first, one per day, days without events included
    by_method: dict[str, int]  # opt-ins over the same days, per way of joining
    opt_ins: int
    opt_outs: int


def consent_activity(*, business: Business, days: int = 30, now: datetime | None = None) -> ConsentActivity:
    """Opt-ins and opt-outs per day (days as the business's clock has them), in one grouped query over the
    (business, occurred_at) index."""
    tz = zoneinfo.ZoneInfo(business.time_zone)
    today = timezone.localtime(now or timezone.now(), tz).date()
    first = today - timedelta(days=days - 1)
    rows = (
        ConsentEvent.objects.filter(
            business=business,
            occurred_at__gte=datetime.combine(first, time.min, tzinfo=tz),
            kind__in=(*OPT_IN_KINDS, ConsentEvent.Kind.OPT_OUT),
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .order_by()  # the model's default ordering would otherwise join the GROUP BY
        .values("day", "kind", "method")
        .annotate(n=Count("id"))
    )
    ins, outs = defaultdict(int), defaultdict(int)
    by_method = dict.fromkeys(JOIN_METHODS, 0)
    for row in rows:
        if row["kind"] == ConsentEvent.Kind.OPT_OUT:
            outs[row["day"]] += row["n"]
        else:
            ins[row["day"]] += row["n"]
            if row["method"] in by_method:
                by_method[row["method"]] += row["n"]
    series = [DayCount(d, ins[d], outs[d]) for d in (first + timedelta(days=i) for i in range(days))]
    return ConsentActivity(series, by_method, sum(d.opt_ins for d in series), sum(d.opt_outs for d in series))


def subscribers_count(*, business: Business) -> int:
    """Subscribed numbers now (the (business, status) index)."""
    return Subscriber.objects.filter(business=business, status=Subscriber.Status.SUBSCRIBED).count()


def consent_events_list(*, business: Business, phone: str | None = None, kind: str | None = None):
    """The business's ledger, newest first (walks the (business, sequence) index backwards)."""
    queryset = ConsentEvent.objects.filter(business=business)
    if phone:
        # By hash, so events whose number was later erased still show up for the consumer.
        queryset = queryset.filter(phone_hash=phone_hash(phone))
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-sequence")


def suppressions_list(*, business: Business, phone: str | None = None):
    queryset = Suppression.objects.filter(business=business)
    if phone:
        queryset = queryset.filter(phone_hash=phone_hash(phone))
    return queryset.order_by("-created_at", "-id")


@dataclass(frozen=True)
class LedgerStatus:
    checked_at: datetime
    events: int
    breaks: list[LedgerBreak]

    @property
    def intact(self) -> bool:
        return not self.breaks


LEDGER_STATUS_TTL = 7 * 24 * 3600


def _ledger_status_key(business_id: int) -> str:
    return f"consent:ledger-status:{business_id}"


def ledger_status_check(*, business: Business) -> LedgerStatus:
    """Walk the business's whole chain now (slow on a long ledger: run on request) and remember the result."""
    status = LedgerStatus(
        checked_at=timezone.now(),
        events=ConsentEvent.objects.filter(business=business).count(),
        breaks=ledger_verify(business_ids=[business.pk]),
    )
    cache.set(_ledger_status_key(business.pk), status, LEDGER_STATUS_TTL)
    return status


def ledger_status_last(*, business: Business) -> LedgerStatus | None:
    """The result of the last check, if it is still remembered."""
    status = cache.get(_ledger_status_key(business.pk))
    return status if isinstance(status, LedgerStatus) else None
