"""The send path: every outgoing message, from queued to handed over, and its delivery reports.

A message is handed to the provider only after consent.can_send() said yes under the per-phone lock that STOP
handling also takes. Its row records the hand-off before the provider sees it, so a task that runs twice sends once,
and an ambiguous failure is left for reconciliation against delivery reports, never resent blindly.
"""

import logging
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import billing
from accounts.models import Business
from consent.locks import phone_locks, phone_try_locks_xact
from consent.policy import BILLING_PAUSED, SendKind, can_send, can_send_many
from nextalerts import metrics, quiet_hours
from nextalerts.phones import InvalidPhoneNumber, phone_hash, to_e164
from nextalerts.sqlbatch import values_update
from subscribers.models import SenderNumber, Subscriber

from . import get_backend, ratelimit, segments
from .messages import REPORT_EARLY, DeliveryReport, OutboundSms, SendError, SendOutcomeUnknown
from .models import Message
from .signals import content_of, settled_send

logger = logging.getLogger(__name__)

Status = Message.Status

# Telnyx: "Blocked due to STOP message" — the recipient opted out at the carrier.
CARRIER_STOP_CODES = {"40300"}
BATCH_SIZE = 100
# Messages checked and handed over under one set of phone locks: a STOP for one of them waits for the chunk.
CHUNK_SIZE = 25


def stale_after() -> timedelta:
    """How long a dispatched message may sit queued, or a claimed one sit sending, before its task or worker is
    presumed lost (settings.SEND_STALE_SECONDS)."""
    return timedelta(seconds=settings.SEND_STALE_SECONDS)


# Retryable refusals (429, connection refused) a message survives before it is failed.
MAX_SEND_ATTEMPTS = 10
# How often a campaign paused for an overdue payment looks again (the dispatcher brings its messages back).
BILLING_RECHECK = timedelta(hours=1)
BILLING_PAUSED_CODE = Message.BILLING_PAUSED_CODE
# Lanes: replies (consent answers, opt-in texts, one-to-one messages: every message without a campaign) have a Celery
# queue of their own, served first, and go ahead of campaign sends in each number's rate limit (see ratelimit.py).
REPLY_LANE, BULK_LANE = "reply", "bulk"
# How far ahead a campaign send may book its number's schedule, and so how long it sleeps for a slot inside a task.
# Past it the rest is queued again with a countdown: the worker is free meanwhile, and a reply takes the next slot.
BULK_HORIZON_SECONDS = 0.25
# After a lost database session: how soon the messages not handed over are tried again, and how often (0.5, 1, 2, 4 s
# apart) the outcome of what was is written through a new session before it is left to the stale-claim recovery.
SESSION_LOST_RETRY_SECONDS = 1.0
OUTCOME_WRITE_ATTEMPTS = 5
# The most one campaign task sleeps for slots in all; then its rest goes back to the queue, behind waiting replies.
BULK_TASK_SLEEP_SECONDS = 2.0


class SendRefused(Exception):
    """A transactional send that consent does not allow; the message says why, for the API to show."""


# --- Queueing ---------------------------------------------------------------------------------------------------------


def message_queue(*, business, sender_number, phone, kind, body, media_urls=(), subscriber=None) -> Message:
    """Record one outbound message and send it through a worker once the current transaction commits."""
    now = timezone.now()
    message = Message.objects.create(
        business=business,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        sender_number=sender_number,
        phone_number=phone,
        phone_hash=phone_hash(phone),
        body=body,
        status=Status.QUEUED,
        dispatched_at=now,
    )
    transaction.on_commit(lambda: messages_enqueue([message.pk], lane=REPLY_LANE))
    return message


def message_lane(message: Message) -> str:
    return BULK_LANE if message.campaign_id else REPLY_LANE


def messages_enqueue(message_ids: list[int], countdown: float | None = None, *, lane: str = BULK_LANE) -> None:
    """Hand messages to the workers, replies on their own queue (settings.CELERY_TASK_ROUTES). If the broker is down
    the rows stay QUEUED and the dispatcher queues them again: whoever queued them (a webhook, a launch) has committed
    and must not fail for it."""
    from .tasks import send_messages, send_replies

    task = send_replies if lane == REPLY_LANE else send_messages
    try:
        if countdown:
            task.apply_async(args=[message_ids], countdown=countdown)
        else:
            task.delay(message_ids)
    except Exception:
        logger.exception(
            "sms.queue.failed", extra={"message_ids": message_ids[:10], "count": len(message_ids), "lane": lane}
        )


def messages_dispatch_due(*, now: datetime | None = None, limit: int = 20_000) -> dict:
    """Queue the outbound messages that are due: quiet hours over, Retry-After passed, or a task lost.

    Safe to overlap with the original tasks: message_send() hands over only a QUEUED row it claims itself.
    """
    now = now or timezone.now()
    recovered = messages_recover_stale(now=now)
    due = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Status.QUEUED).filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now)
    )
    due = due.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - stale_after()))
    rows = list(due.order_by("id").values_list("pk", "campaign_id")[:limit])
    for lane in (REPLY_LANE, BULK_LANE):
        ids = [pk for pk, campaign_id in rows if (BULK_LANE if campaign_id else REPLY_LANE) == lane]
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            Message.objects.filter(pk__in=chunk, status=Status.QUEUED).update(dispatched_at=now)
            messages_enqueue(chunk, lane=lane)
    return {"dispatched": len(rows), **{name: count for name, count in recovered.items() if count}}


def messages_recover_stale(*, now: datetime | None = None, limit: int = 20_000) -> dict:
    """Claims whose worker died (SIGKILL, a lost host) or lost its database session mid-chunk: rows left "sending"
    for longer than settings.SEND_STALE_SECONDS whose phone lock nobody holds any more.

    One whose hand-off never began goes back to the queue, and is sent once by whichever worker claims it next
    (after a fresh consent check). One whose hand-off began may have reached Telnyx, which promises nothing for a
    repeated POST after 24 hours, nor for one that failed: it is never resent, but marked uncertain, for a delivery
    report to settle (see _reconcile) or, without one, messages_expire_uncertain to fail in three days.
    """
    now = now or timezone.now()
    stale = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status=Status.SENDING, updated_at__lt=now - stale_after()
    ).exclude(error_code="unknown")  # an uncertain hand-off already waits for its report
    candidates = list(stale.order_by("id").values_list("pk", "business_id", "phone_hash")[:limit])
    if not candidates:
        return {"requeued": 0, "uncertain": 0}
    with transaction.atomic():
        # A live worker holds the locks of what it is handing over, however slow it is: those are left alone.
        free = phone_try_locks_xact(keys={(business_id, digest) for _pk, business_id, digest in candidates})
        ids = [pk for pk, business_id, digest in candidates if (business_id, digest) in free]
        rows = stale.filter(pk__in=ids)
        requeued = rows.filter(handoff_started_at__isnull=True).update(
            status=Status.QUEUED, dispatched_at=None, updated_at=now
        )
        uncertain = rows.filter(handoff_started_at__isnull=False).update(
            error_code="unknown",
            error_detail="the worker stopped during the hand-off; not resent, left for the delivery report",
            updated_at=now,
        )
    if requeued or uncertain:
        logger.warning("sms.send.recovered", extra={"requeued": requeued, "uncertain": uncertain})
    return {"requeued": requeued, "uncertain": uncertain}


# --- Sending ----------------------------------------------------------------------------------------------------------


def messages_send(*, message_ids: list[int], now: datetime | None = None) -> dict:
    """Send a batch of queued messages: the due ones that consent allows. Returns how many ended in each status.

    Safe to call any number of times, and from several workers at once: a message is handed over only by the worker
    that claimed it from QUEUED.
    """
    now = now or timezone.now()
    messages = list(
        Message.objects.select_related("business", "sender_number", "campaign")
        .filter(pk__in=message_ids, direction=Message.Direction.OUTBOUND, status=Status.QUEUED)
        .order_by("id")
    )
    due = [m for m in messages if not (m.send_after and m.send_after > now)]  # the rest: the dispatcher brings back
    orphans = [m for m in due if m.sender_number is None]
    if orphans:
        Message.objects.filter(pk__in=[m.pk for m in orphans], status=Status.QUEUED).update(
            status=Status.FAILED, error_detail="the sender number was removed", updated_at=timezone.now()
        )
        for message in orphans:
            message.status = Status.FAILED
        metrics.send_outcomes(orphans)
    groups: dict[tuple[int, int], list[Message]] = {}
    for message in due:
        if message.sender_number is not None:
            groups.setdefault((message.business_id, message.sender_number_id), []).append(message)
    pace = _Pace()
    for group in groups.values():
        # Small enough chunks that the phone locks are held about a second at most, even for a slow number.
        size = max(1, min(CHUNK_SIZE, int(group[0].sender_number.messages_per_second)))
        for start in range(0, len(group), size):
            deferral = _send_chunk(group[start : start + size], now, pace=pace)
            if deferral is not None:
                # The number is booked ahead (or this task has slept its share): the rest waits in the queue, where
                # it holds no worker, instead of sleeping here.
                # Claimed and put back untried: that was no attempt (attempts bound the retries of refusals).
                Message.objects.filter(pk__in=[m.pk for m in deferral.messages], status=Status.QUEUED).update(
                    attempts=F("attempts") - 1
                )
                _requeue(deferral.messages + group[start + size :], countdown=deferral.countdown)
                break
    counts: dict[str, int] = {}
    for message in due:
        counts[message.status] = counts.get(message.status, 0) + 1
    settled_send(m.campaign_id for m in due)
    return counts


def message_send(*, message_id: int, now: datetime | None = None) -> Message | None:
    """Send one queued message, if it is due and consent allows it. Safe to call any number of times."""
    messages_send(message_ids=[message_id], now=now)
    return Message.objects.filter(pk=message_id).first()


# Fields an outcome may change; written back for the whole chunk in one UPDATE.
OUTCOME_FIELDS = [
    "status", "body", "send_after", "dispatched_at", "provider_message_id", "error_code", "error_detail", "sent_at",
    "updated_at",
]  # fmt: skip


def _outcome(message, status, **fields):
    message.status = status
    for name, value in fields.items():
        setattr(message, name, value)


class _Deferral:
    """The messages of a chunk not handed over because their number's next slot is too far off, and when to retry."""

    def __init__(self, messages: list[Message], countdown: float):
        self.messages, self.countdown = messages, countdown


class _Pace:
    """A task's rate-limit waits: replies wait for their slot whatever it takes; a campaign send books a slot only
    within BULK_HORIZON_SECONDS, and sleeps at most BULK_TASK_SLEEP_SECONDS in one task; otherwise SlotTooFar."""

    def __init__(self):
        self.slept = 0.0
        # A task run in-process (CELERY_TASK_ALWAYS_EAGER) cannot wait in a queue: it sleeps for its slots instead.
        self.defer = not current_app.conf.task_always_eager

    def wait(self, message: Message, number: SenderNumber) -> None:
        key, rate = f"number:{number.pk}", number.messages_per_second
        if message_lane(message) == REPLY_LANE or not self.defer:
            ratelimit.acquire(key, rate)
            return
        if self.slept >= BULK_TASK_SLEEP_SECONDS:
            raise ratelimit.SlotTooFar(0.0)
        self.slept += ratelimit.acquire(key, rate, horizon=BULK_HORIZON_SECONDS)


def _requeue(messages: list[Message], *, countdown: float) -> None:
    """Queue still-QUEUED messages again after `countdown` seconds, each in its lane."""
    ids = [m.pk for m in messages if m.status == Status.QUEUED]
    if not ids:
        return
    Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(dispatched_at=timezone.now())
    for lane in (REPLY_LANE, BULK_LANE):
        of_lane = [m.pk for m in messages if m.status == Status.QUEUED and message_lane(m) == lane]
        if of_lane:
            transaction.on_commit(lambda of_lane=of_lane, lane=lane: messages_enqueue(of_lane, countdown, lane=lane))
    logger.info("sms.send.deferred", extra={"count": len(ids), "seconds": round(countdown, 3)})


def _send_chunk(messages: list[Message], now: datetime, *, pace: _Pace | None = None) -> _Deferral | None:
    """Claim, check and hand over one chunk of one business's messages from one number.

    The phone locks of the whole chunk are held from the consent check to the recorded outcome, so a STOP for any
    of these numbers waits for this chunk, and once a STOP has been answered, no check here can have missed it.
    Returns a _Deferral when the number's rate limit put the rest of the chunk off (campaign sends only).
    They are session locks: if the database session dies (failover, pooler restart, network cut) they die with it
    and a STOP can go through, so each hand-off first confirms, in the round trip that records it, that the session
    still holds its message's lock. When it does not, nothing more is handed over: the rest goes back to the queue.
    """
    pace = pace or _Pace()
    deferral = None
    business, number = messages[0].business, messages[0].sender_number
    with phone_locks(keys=[(m.business_id, m.phone_hash) for m in messages]) as locks:
        with transaction.atomic():
            claimed = set(
                Message.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=[m.pk for m in messages], status=Status.QUEUED)
                .values_list("pk", flat=True)
            )
            # A queued row is one the provider certainly did not take (a 429, a refused connection, a claim taken back
            # before its hand-off began): this attempt's hand-off starts afresh.
            Message.objects.filter(pk__in=claimed).update(
                status=Status.SENDING, attempts=F("attempts") + 1, handoff_started_at=None, updated_at=timezone.now()
            )
            messages = [m for m in messages if m.pk in claimed]  # the others belong to another worker
            for message in messages:
                message.status, message.attempts = Status.SENDING, message.attempts + 1
            to_send = _check(business, messages, now)
        # Committed: every row says SENDING before the provider sees anything.
        backend = get_backend()
        returned: list[Message] = []  # taken back from this worker before their hand-off began
        media: dict[int, tuple[str, ...]] = {}  # each composed message's pictures, which the segments count
        for position, message in enumerate(to_send):
            content = content_of(message)  # composed afresh from its source each try: a retry says the same
            message.body, media[message.pk] = content.body, content.media_urls
            try:
                pace.wait(message, number)
            except ratelimit.SlotTooFar as exc:
                rest = to_send[position:]
                for waiting in rest:
                    _outcome(waiting, Status.QUEUED, dispatched_at=timezone.now())
                # Back shortly before the slot, so the next try finds it within the horizon.
                deferral = _Deferral(rest, countdown=max(0.0, exc.wait - BULK_HORIZON_SECONDS / 2))
                break
            sms = OutboundSms(
                from_number=number.phone_number,
                to_number=message.phone_number,
                text=message.body,
                media_urls=content.media_urls,
                messaging_profile_id=number.messaging_profile_id,
                reference=f"nextalerts-message-{message.pk}",
            )
            if not _handoff_start(message, locks):
                returned = to_send[position:]
                for rest in returned:
                    _outcome(rest, Status.QUEUED, dispatched_at=None)
                break
            try:
                result = backend.send(sms)
            except SendError as exc:
                _record_refusal(message, exc)
                if exc.retryable:
                    # Rate limited or unreachable: the rest of the chunk would only be refused too.
                    for rest in to_send[position + 1 :]:
                        _outcome(rest, Status.QUEUED, send_after=message.send_after, dispatched_at=None)
                    break
            except SendOutcomeUnknown as exc:
                # It may have gone out: never send it again; a delivery report will tell (see delivery_report_apply).
                _outcome(message, Status.SENDING, error_code="unknown", error_detail=f"hand-off uncertain: {exc}"[:500])
                logger.warning("sms.send.uncertain", extra={"message_id": message.pk})
            else:
                held = message.error_code == BILLING_PAUSED_CODE  # not an error once it went
                _outcome(
                    message, Status.SENT, provider_message_id=result.provider_message_id, sent_at=timezone.now(),
                    **({"error_code": ""} if held else {}),
                )  # fmt: skip
        if locks.lost:
            # Recorded through a new session: the old one is gone, and its locks with it.
            connection.close()
        stamp = timezone.now()
        for message in messages:
            message.updated_at = stamp
        if returned:
            logger.warning("sms.send.session-lost", extra={"message_ids": [m.pk for m in returned][:10]})
        _write_outcomes_surely(messages, locks)
        metrics.send_outcomes(messages)
        if returned:
            # Checked and sent again by the next task, on its own session: a reply is not left for the dispatcher.
            _requeue(returned, countdown=SESSION_LOST_RETRY_SECONDS)
        _record_usage(business, [m for m in to_send if m not in returned], media, now)
        for message in messages:
            if message.status == Status.BLOCKED and message.error_code in CARRIER_STOP_CODES:
                from consent.services import suppression_from_carrier

                suppression_from_carrier(
                    business=business, phone=message.phone_number, provider_message_id="", detail=message.error_detail
                )
    return deferral


def _handoff_start(message: Message, locks) -> bool:
    """Record that this message's hand-off begins, in one round trip that succeeds only while this worker's database
    session is alive, still holds the message's phone lock, and still owns the claim (same attempt, not started).
    False means: hand nothing more over."""
    held, params = locks.held_sql(message.business_id, message.phone_hash)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE campaigns_message SET handoff_started_at = %s WHERE id = %s AND status = %s AND attempts = %s "
                f"AND handoff_started_at IS NULL AND {held}",
                [timezone.now(), message.pk, Status.SENDING, message.attempts, *params],
            )
            started = cursor.rowcount == 1
    except DatabaseError:
        logger.warning("sms.send.session-gone", extra={"message_id": message.pk})
        locks.lost = True
        return False
    if not started:
        logger.warning("sms.send.lock-lost", extra={"message_id": message.pk})
        locks.lost = True  # held by nobody, or by a new session that never took them: nothing to release
    return started


def _record_usage(business, handed_over: list[Message], media: dict[int, tuple[str, ...]], now: datetime) -> None:
    """Count the segments handed to the provider (sent, or possibly sent) into the billing period: one UPDATE."""
    total = 0
    for message in handed_over:
        if message.status == Status.SENT or (message.status == Status.SENDING and message.error_code == "unknown"):
            total += segments.measure(message.body, media_urls=media.get(message.pk, ())).segments or 1
    if total:
        billing.usage_record(business=business, segments=total, now=now)


def _write_outcomes_surely(messages: list[Message], locks) -> None:
    """_write_outcomes, written again through a new session when the database dropped this one: what was handed over
    is recorded as sent, and what was not goes back to the queue, instead of all of it waiting as "sending" for the
    stale-claim recovery (SEND_STALE_SECONDS). Harmless twice: the write is the same, and only for this claim."""
    for attempt in range(OUTCOME_WRITE_ATTEMPTS):
        try:
            _write_outcomes(messages)
            return
        except (OperationalError, InterfaceError):
            if attempt == OUTCOME_WRITE_ATTEMPTS - 1 or connection.in_atomic_block:
                raise
            logger.warning("sms.send.outcome-reconnect", extra={"message_ids": [m.pk for m in messages][:10]})
            locks.lost = True  # gone with the session: nothing left to release
            connection.close()
            time.sleep(0.5 * 2**attempt)


def _write_outcomes(messages: list[Message]) -> None:
    """One UPDATE for the whole chunk. On PostgreSQL from arrays (Django's bulk_update builds a CASE per field and
    row, which costs more than the hand-off itself); elsewhere bulk_update."""
    if not messages:
        return
    if connection.vendor != "postgresql":
        Message.objects.bulk_update(messages, OUTCOME_FIELDS)
        return
    # Only rows still in this worker's claim (same attempt): one recovered and claimed again belongs to another.
    columns = {
        "status": "text", "body": "text", "send_after": "timestamptz", "dispatched_at": "timestamptz",
        "provider_message_id": "text", "error_code": "text", "error_detail": "text", "sent_at": "timestamptz",
        "updated_at": "timestamptz",
    }  # fmt: skip
    arrays = [[m.pk for m in messages], [m.attempts for m in messages]]
    arrays += [[getattr(m, name) for m in messages] for name in columns]
    unnest = ", ".join(["%s::bigint[]", "%s::int[]"] + [f"%s::{kind}[]" for kind in columns.values()])
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE campaigns_message AS m SET {assignments} "
            f"FROM unnest({unnest}) AS v(id, attempts, {', '.join(columns)}) WHERE m.id = v.id "
            "AND m.attempts = v.attempts",
            arrays,
        )


def _check(business, messages: list[Message], now: datetime) -> list[Message]:
    """Quiet hours and consent for a claimed chunk; returns the messages that may go now."""
    marketing = [m for m in messages if m.kind == Message.Kind.MARKETING]
    profiles = {}
    if marketing:
        profiles = dict(
            Subscriber.objects.filter(business=business, phone_hash__in=[m.phone_hash for m in marketing]).values_list(
                "phone_hash", "quiet_profile"
            )
        )
    allowed = []
    for kind in {m.kind for m in messages}:
        of_kind = [m for m in messages if m.kind == kind]
        decisions = can_send_many(business, [m.phone_number for m in of_kind], kind)
        for message in of_kind:
            if kind == Message.Kind.MARKETING:
                profile = profiles.get(message.phone_hash) or quiet_hours.profile_or_fallback(
                    message.phone_number, fallback_tz=business.time_zone
                )
                wait_until = quiet_hours.next_send_time(profile, now)
                if wait_until is not None:
                    # Held for quiet hours, whatever held it before (a retry, a payment): that is what it waits for.
                    _outcome(message, Status.QUEUED, send_after=wait_until, dispatched_at=None, error_code="")
                    continue
            decision = decisions[message.phone_number]
            if not decision and decision.reason == BILLING_PAUSED:
                # Paused, not dropped: the campaign goes on once the payment is made (or is cancelled by the owner).
                _outcome(
                    message, Status.QUEUED, send_after=now + BILLING_RECHECK, dispatched_at=None,
                    error_code=BILLING_PAUSED_CODE,
                )  # fmt: skip
                continue
            if not decision:
                _outcome(message, Status.BLOCKED, error_detail=decision.reason[:500])
                logger.info("sms.send.blocked", extra={"message_id": message.pk, "reason": decision.reason})
                continue
            allowed.append(message)
    allowed.sort(key=lambda m: m.pk)
    return allowed


def _record_refusal(message, exc: SendError):
    if exc.retryable and message.attempts < MAX_SEND_ATTEMPTS:
        # The provider certainly did not take it: try again later, honouring Retry-After.
        delay = max(exc.retry_after or 0, min(2**message.attempts, 300))
        _outcome(
            message,
            Status.QUEUED,
            send_after=timezone.now() + timedelta(seconds=delay),
            dispatched_at=None,
            error_code=exc.code,
            error_detail=f"retrying: {exc}"[:500],
        )
        logger.info("sms.send.retry-later", extra={"message_id": message.pk, "seconds": delay})
    elif exc.code in CARRIER_STOP_CODES:
        _outcome(message, Status.BLOCKED, error_code=exc.code, error_detail=str(exc)[:500])
    else:
        _outcome(message, Status.FAILED, error_code=exc.code, error_detail=str(exc)[:500])


# --- Transactional sends ----------------------------------------------------------------------------------------------


def _one_to_one_checked(to: str, body: str) -> str:
    """The recipient of a one-to-one text in E.164, once it and the text are usable; else a ValidationError naming
    the field to fix."""
    try:
        phone = to_e164(to)
    except InvalidPhoneNumber as exc:
        raise ValidationError({"to": str(exc)}) from exc
    if not body or not body.strip():
        raise ValidationError({"body": "The message text is empty."})
    return phone


def transactional_send(*, business: Business, to: str, body: str, number: SenderNumber | None = None) -> Message:
    """One message to one subscriber of this business (a showing confirmation, a reminder)."""
    phone = _one_to_one_checked(to, body)
    decision = can_send(business, phone, SendKind.TRANSACTIONAL)
    if not decision:
        raise SendRefused(f"{phone} cannot be texted: {decision.reason}. Only numbers that opted in can be texted.")
    subscriber = Subscriber.objects.filter(business=business, phone_number=phone).first()
    if number is None:
        number = subscriber.number if subscriber and subscriber.number_id else business.numbers.order_by("id").first()
    if number is None:
        raise ValidationError({"number": "Add a sender number first (POST /api/v1/numbers/)."})
    return message_queue(
        business=business, sender_number=number, phone=phone, kind=Message.Kind.TRANSACTIONAL, body=body
    )


def conversation_reply(*, business: Business, to: str, body: str) -> Message:
    """A reply to a consumer who texted this business (the inbox), from the number they texted last.

    They started the conversation, so they need not be a subscriber; a number that opted out (or is on the
    do-not-text list) is still refused, like every other send.
    """
    phone = _one_to_one_checked(to, body)
    last_text = (
        Message.objects.filter(business=business, direction=Message.Direction.INBOUND, phone_hash=phone_hash(phone))
        .select_related("sender_number")
        .order_by("-created_at", "-id")
        .first()
    )
    if last_text is None or last_text.sender_number is None:
        raise SendRefused(f"{phone} has not texted {business.name}: only people who texted you can get a reply.")
    decision = can_send(business, phone, SendKind.CONVERSATION)
    if not decision:
        raise SendRefused(f"{phone} cannot be texted: {decision.reason}.")
    return message_queue(
        business=business, sender_number=last_text.sender_number, phone=phone, kind=Message.Kind.CONVERSATION, body=body
    )


# --- Delivery reports -------------------------------------------------------------------------------------------------


def _decimal(value):
    try:
        return Decimal(value) if value is not None else None
    except InvalidOperation:
        return None


def _adapt(value):
    return connection.ops.adapt_datetimefield_value(value)


def _without_id(report: DeliveryReport):
    """This platform's messages of the last three days, still "sending" with no provider id, that `report` may be for:
    the same sender, recipient and (when the report has it) text."""
    candidates = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status=Status.SENDING,
        provider_message_id="",
        phone_number=report.to_number,
        sender_number__phone_number=report.from_number,
        created_at__gte=timezone.now() - timedelta(days=3),
    )
    return candidates.filter(body=report.text) if report.text else candidates


def _reconcile(report: DeliveryReport):
    """A report for a message whose hand-off ended in doubt (we never learnt its id): match it by sender, recipient
    and text among this platform's uncertain sends of the last three days."""
    if not (report.from_number and report.to_number):
        return None
    match = _without_id(report).filter(error_code="unknown").order_by("created_at").first()
    if match is not None:
        updated = Message.objects.filter(pk=match.pk, provider_message_id="").update(
            provider_message_id=report.provider_message_id
        )
        if updated:
            logger.info("sms.send.reconciled", extra={"message_id": match.pk})
            match.provider_message_id = report.provider_message_id
            return match
    return None


def _reported_message(report: DeliveryReport) -> Message | None:
    """The message a report is for: by the provider's id, or, for an uncertain hand-off, by what _reconcile matches."""
    row = (
        Message.objects.select_related("business")
        .filter(direction=Message.Direction.OUTBOUND, provider_message_id=report.provider_message_id)
        .first()
    )
    return row if row is not None else _reconcile(report)


def _handoff_unrecorded(report: DeliveryReport) -> bool:
    """Whether `report` may be for a message whose hand-off began but whose outcome is not recorded yet, and so must
    wait rather than be dropped: a live worker writes its chunk's outcomes once the chunk is handed over, and a dead
    worker's claims are marked uncertain (and so open to _reconcile) only SEND_STALE_SECONDS later. Telnyx reports
    within seconds, before either. (One marked uncertain since _reconcile looked counts too: the next batch matches
    it.)"""
    if not (report.from_number and report.to_number):
        return False
    return _without_id(report).filter(handoff_started_at__isnull=False).exists()


def _report_change(report: DeliveryReport, error_code: str) -> tuple[str, dict, bool]:
    """What `report` would write to a message whose error code is `error_code`: (its new status, the fields, whether
    it is a carrier STOP). The status is written only if it is further along than the message's."""
    status = report.status
    carrier_stop = report.error_code in CARRIER_STOP_CODES and status in (Status.SENDING_FAILED, Status.DELIVERY_FAILED)
    if carrier_stop:
        status = Status.BLOCKED
    fields = {"status": status, "updated_at": timezone.now()}
    if report.sent_at:
        fields["sent_at"] = report.sent_at
    if status == Status.DELIVERED:
        fields["delivered_at"] = report.completed_at or timezone.now()
    if report.error_code:
        fields["error_code"], fields["error_detail"] = report.error_code, report.error_detail
    elif error_code == "unknown":
        fields["error_code"], fields["error_detail"] = "", ""  # the doubt about its hand-off is settled
    if report.parts is not None:
        fields["parts"] = report.parts
    if _decimal(report.cost) is not None:
        fields["cost"], fields["cost_currency"] = _decimal(report.cost), report.cost_currency
    return status, fields, carrier_stop


# Figures a report carries that are kept even when its status is stale (out of order or repeated).
_LATE_FIGURES = ("parts", "cost", "cost_currency")


def _report_applied(*, business, phone, provider_message_id, campaign_id, report, carrier_stop, was) -> None:
    """What follows a report that moved a message on from status `was`."""
    if carrier_stop:
        from consent.services import suppression_from_carrier

        suppression_from_carrier(
            business=business, phone=phone, provider_message_id=provider_message_id, detail=report.error_detail
        )
    if was == Status.SENDING:
        # Only a message leaving "sending" (an uncertain hand-off) can be the last one its campaign waits for.
        settled_send([campaign_id])


def delivery_report_apply(*, message: DeliveryReport) -> tuple[str, Business | None]:
    """Move an outbound message forward on a provider report. Reports may come late, twice or out of order: a
    message never goes back to an earlier status, and a repeated report changes nothing."""
    report = message
    row = _reported_message(report)
    if row is None and _handoff_unrecorded(report):
        return REPORT_EARLY, None
    if row is None:
        # Its outcome may have been recorded between the two looks (by its worker, or by the dispatcher marking it
        # uncertain): a row never goes back to an unrecorded hand-off, so one more look is enough.
        row = _reported_message(report)
    if row is None:
        return "unknown-message", None
    status, fields, carrier_stop = _report_change(report, row.error_code)
    earlier = [s for s, rank in Message.PROGRESS.items() if rank < Message.PROGRESS[status]]
    updated = Message.objects.filter(pk=row.pk, status__in=earlier).update(**fields)
    if not updated:
        # Out of order or repeated: the status stays, but late cost and parts figures are still worth keeping.
        extra = {k: v for k, v in fields.items() if k in _LATE_FIGURES}
        if extra:
            Message.objects.filter(pk=row.pk).update(**extra)
        return "delivery-stale", row.business
    _report_applied(
        business=row.business, phone=row.phone_number, provider_message_id=row.provider_message_id,
        campaign_id=row.campaign_id, report=report, carrier_stop=carrier_stop, was=row.status,
    )  # fmt: skip
    return f"delivery-{status}", row.business


# The columns a batch of reports writes, with their PostgreSQL types; each NULL where no report of the batch set it.
_REPORT_COLUMNS = (
    ("id", "bigint"), ("expected", "text"), ("status", "text"), ("updated_at", "timestamptz"),
    ("sent_at", "timestamptz"), ("delivered_at", "timestamptz"), ("error_code", "text"), ("error_detail", "text"),
    ("parts", "integer"), ("cost", "numeric"), ("cost_currency", "text"),
)  # fmt: skip


def delivery_reports_apply(*, reports: list[DeliveryReport]) -> list[tuple[str, Business | None]]:
    """delivery_report_apply for many reports, in their order, with the same outcome as applying them one after the
    other: one look-up of their messages by provider id, and one set-based UPDATE of the messages found.

    The reports for one message are folded in order (the furthest status wins, a stale one keeps only its late cost
    and parts), and the UPDATE writes a message only if its status is still the one read: a message another process
    moved meanwhile, and every report whose message is not found by its id (unknown, early, or an uncertain hand-off
    to reconcile), go through delivery_report_apply one at a time instead. Answers one (outcome, business) per report.
    """
    ids = {r.provider_message_id for r in reports if r.provider_message_id}
    found, businesses = {}, {}
    if ids:
        # Plain rows, not model instances (which cost more than the rest of the batch); the explicit `<> ''` lets
        # PostgreSQL use the partial unique index for a long IN list too.
        rows = (
            Message.objects.filter(direction=Message.Direction.OUTBOUND, provider_message_id__in=ids)
            .exclude(provider_message_id="")
            .values("pk", "provider_message_id", "status", "error_code", "business_id", "phone_number", "campaign_id")
        )
        found = {row["provider_message_id"]: row for row in rows}
        businesses = Business.objects.in_bulk({row["business_id"] for row in found.values()})

    outcomes: list = [None] * len(reports)
    plans: dict[int, dict] = {}  # message id -> its row, status and error code as folded so far, fields, moves
    alone = []  # indexes of the reports applied one at a time
    for i, report in enumerate(reports):
        row = found.get(report.provider_message_id)
        if row is None:
            alone.append(i)
            continue
        business = businesses[row["business_id"]]
        plan = plans.setdefault(row["pk"], {"row": row, "status": row["status"], "error_code": row["error_code"],
                                            "fields": {}, "moves": [], "reports": []})  # fmt: skip
        plan["reports"].append(i)
        status, fields, carrier_stop = _report_change(report, plan["error_code"])
        if Message.PROGRESS.get(plan["status"], len(Message.PROGRESS)) < Message.PROGRESS[status]:
            plan["fields"].update(fields)
            plan["moves"].append((report, carrier_stop, plan["status"]))
            plan["status"], plan["error_code"] = status, fields.get("error_code", plan["error_code"])
            outcomes[i] = (f"delivery-{status}", business)
        else:
            plan["fields"].update({k: v for k, v in fields.items() if k in _LATE_FIGURES})
            outcomes[i] = ("delivery-stale", business)

    writes = {pk: plan for pk, plan in plans.items() if plan["fields"]}
    written = set()
    if writes:
        values = [
            [
                pk,
                plan["row"]["status"],
                *(_adapt_report_value(plan["fields"].get(name)) for name, _ in _REPORT_COLUMNS[2:]),
            ]
            for pk, plan in writes.items()
        ]
        assignments = ", ".join(f"{name} = COALESCE(v.{name}, t.{name})" for name, _ in _REPORT_COLUMNS[2:])
        written = {
            r[0]
            for r in values_update(
                table=Message._meta.db_table, columns=_REPORT_COLUMNS, rows=values, assignments=assignments,
                condition="t.status = v.expected", returning="id",
            )
        }  # fmt: skip
    for pk, plan in plans.items():
        if pk in writes and pk not in written:
            alone += plan["reports"]  # moved by another process since it was read: each report on its own
            continue
        row = plan["row"]
        for report, carrier_stop, was in plan["moves"]:
            _report_applied(
                business=businesses[row["business_id"]], phone=row["phone_number"],
                provider_message_id=row["provider_message_id"], campaign_id=row["campaign_id"], report=report,
                carrier_stop=carrier_stop, was=was,
            )  # fmt: skip
    for i in sorted(alone):
        outcomes[i] = delivery_report_apply(message=reports[i])
    return outcomes


def _adapt_report_value(value):
    if isinstance(value, datetime):
        return _adapt(value)
    return value


# --- Reconciliation of uncertain hand-offs ----------------------------------------------------------------------------


def messages_expire_uncertain(*, now: datetime | None = None, after: timedelta = timedelta(days=3)) -> dict:
    """A hand-off in doubt that no delivery report has explained within three days is failed (not resent)."""
    now = now or timezone.now()
    stuck = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status=Status.SENDING, updated_at__lt=now - after
    )
    campaign_ids = set(stuck.exclude(campaign=None).values_list("campaign_id", flat=True))
    count = stuck.update(
        status=Status.FAILED,
        error_code="unknown",
        error_detail="hand-off uncertain and no delivery report arrived; not resent",
        updated_at=now,
    )
    settled_send(campaign_ids)
    return {"expired": count}


# --- Limits of one message ------------------------------------------------------------------------------------------

MAX_MEDIA = 10
MAX_BODY = 1600  # Telnyx's limit for one message, in characters
