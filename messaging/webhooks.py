"""POST /webhooks/telnyx/: verify, store once, normalise, hand to the owning app.

Answers: 2xx once the event is durably handled (or is a redelivery, or needs nothing); 4xx for a request that can
never be valid (bad signature, not JSON, not a Telnyx event); 5xx only where Telnyx should retry (our database is
down, the public key is not configured yet).
"""

import logging
import time
from datetime import UTC
from decimal import Decimal, InvalidOperation

import psycopg
from celery import current_app
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from telnyx.lib.webhook_verification import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify_webhook_signature,
)

from nextalerts import metrics
from nextalerts.payloads import UnusableBody, webhook_json_load
from nextalerts.sqlbatch import values_update
from nextalerts.webhook_events import DUPLICATE, reconnecting

from .inbound import inbound_message_handle
from .messages import REPORT_EARLY, DeliveryReport, InboundMessage
from .models import WebhookEvent
from .services import delivery_report_apply, delivery_reports_apply

logger = logging.getLogger(__name__)


# Telnyx's per-recipient delivery statuses that move a message forward ("queued" says nothing new).
TELNYX_DELIVERY_STATUSES = {
    "sending",
    "sent",
    "delivered",
    "delivery_unconfirmed",
    "sending_failed",
    "delivery_failed",
}


class InvalidPayload(ValueError):
    """A signed event whose content we cannot use; the message says what is missing."""


def _error(status, message, **extra):
    return JsonResponse({"error": message, **extra}, status=status)


# The longest phone number any row holds (E.164 has at most 15 digits; a formatted one a few characters more).
PHONE_MAX = 20
# The longest provider message id a row holds.
MESSAGE_ID_MAX = 100
ERROR_CODE_MAX = 32
PARTS_MAX = 32767  # the parts column is a small integer; no SMS has more than a few
COST_MAX = Decimal("999999")  # the cost column holds ten digits, four after the point


def _parse_time(value):
    """The provider's time when it is one (a naive one read as UTC); otherwise, or out of any sensible range, now."""
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible: "2025-13-45T99:00:00Z"
        parsed = None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if parsed is None or not 2000 <= parsed.year <= 2200:
        return timezone.now()
    return parsed


def _phone(value, what):
    if isinstance(value, dict):
        value = value.get("phone_number")
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"data.payload.{what}.phone_number is missing")
    if len(value.strip()) > PHONE_MAX:
        raise InvalidPayload(f"data.payload.{what}.phone_number is not a phone number (over {PHONE_MAX} characters)")
    return value.strip()


def _text(value, limit=None):
    text = value if isinstance(value, str) else ""
    return text[:limit] if limit else text


def _cost(value):
    """A decimal string the cost column can hold, or None."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return str(amount) if amount.is_finite() and abs(amount) <= COST_MAX else None


def normalize_telnyx(event_type, payload):
    """Turn a Telnyx event's `data.payload` into an InboundMessage, a DeliveryReport, or None (nothing to do).

    Fields of the wrong type are read as absent; what a row could not hold is cut to fit (an error text) or, where
    it identifies something (a number, a message id), refused with InvalidPayload."""
    if not isinstance(payload, dict):
        raise InvalidPayload("data.payload must be an object")
    if event_type == "message.received":
        to = payload.get("to")
        recipient = to[0] if isinstance(to, list) and to else to
        message_id = payload.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise InvalidPayload("data.payload.id is missing")
        if len(message_id) > MESSAGE_ID_MAX:
            raise InvalidPayload(f"data.payload.id is too long ({len(message_id)} > {MESSAGE_ID_MAX} characters)")
        media = payload.get("media") if isinstance(payload.get("media"), list) else []
        return InboundMessage(
            provider_message_id=message_id,
            from_number=_phone(payload.get("from"), "from"),
            to_number=_phone(recipient, "to"),
            text=_text(payload.get("text")),
            received_at=_parse_time(payload.get("received_at")),
            media_urls=[m["url"] for m in media if isinstance(m, dict) and isinstance(m.get("url"), str) and m["url"]],
        )
    if event_type in ("message.sent", "message.finalized"):
        to = payload.get("to")
        recipient = to[0] if isinstance(to, list) and to and isinstance(to[0], dict) else {}
        status = recipient.get("status")
        message_id = payload.get("id")
        if not isinstance(status, str) or status not in TELNYX_DELIVERY_STATUSES or not isinstance(message_id, str):
            return None
        errors = payload.get("errors") if isinstance(payload.get("errors"), list) else []
        error = errors[0] if errors and isinstance(errors[0], dict) else {}
        cost = payload.get("cost") if isinstance(payload.get("cost"), dict) else {}
        sender = payload.get("from")
        parts = payload.get("parts")
        return DeliveryReport(
            provider_message_id=message_id[:MESSAGE_ID_MAX],
            status=status,
            from_number=_text(sender.get("phone_number"), PHONE_MAX) if isinstance(sender, dict) else "",
            to_number=_text(recipient.get("phone_number"), PHONE_MAX),
            text=_text(payload.get("text")),
            error_code=str(error.get("code") or "")[:ERROR_CODE_MAX],
            error_detail=str(error.get("detail") or error.get("title") or "")[:500],
            parts=parts if isinstance(parts, int) and not isinstance(parts, bool) and 0 <= parts <= PARTS_MAX else None,
            cost=_cost(cost["amount"]) if cost.get("amount") is not None else None,
            cost_currency=str(cost.get("currency") or "")[:3],
            sent_at=_parse_time(payload["sent_at"]) if isinstance(payload.get("sent_at"), str) else None,
            completed_at=_parse_time(payload["completed_at"]) if isinstance(payload.get("completed_at"), str) else None,
        )
    return None


def _verify(raw: str, headers) -> None:
    """Check the ed25519 signature and the 5-minute timestamp window with the telnyx SDK's verify-only helper.

    `client.webhooks.unwrap()` runs the same check and then builds the SDK's typed event model, which this service
    does not use and which cost about half of this endpoint's time; the payload is parsed once, below.
    Only the two headers it reads are passed: the helper finds each by scanning every header it is given.
    Raises WebhookVerificationError saying what is wrong.
    """
    signed = {name: headers.get(name, "") for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER)}
    verify_webhook_signature(raw, signed, settings.TELNYX_PUBLIC_KEY)


@metrics.webhook_intake("telnyx")
@csrf_exempt
@require_POST
def telnyx_webhook(request):
    if not settings.TELNYX_PUBLIC_KEY:
        logger.error("sms.webhook.no-public-key")
        return _error(503, "Webhook verification is not configured (TELNYX_PUBLIC_KEY); retry later.")
    try:
        raw = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "The body is not UTF-8 text.")
    try:
        _verify(raw, request.headers)
    except WebhookVerificationError as exc:
        logger.warning("sms.webhook.bad-signature", extra={"reason": exc.message})
        return _error(403, f"Signature check failed: {exc.message}")

    try:
        # NULs and lone surrogates are dropped (a STOP with a stray one is still a STOP); `raw` then follows suit.
        body, raw = webhook_json_load(raw)
    except UnusableBody as exc:
        return _error(400, str(exc))
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("event_type"), str):
        return _error(400, 'Not a Telnyx event: expected {"data": {"id", "event_type", "payload"}}.')
    event_id, event_type = data["id"], data["event_type"]
    for name, value in (("event_id", event_id), ("event_type", event_type)):
        limit = WebhookEvent._meta.get_field(name).max_length
        if len(value) > limit:
            return _error(400, f"The event's {name.replace('_', ' ')} is too long ({len(value)} > {limit} characters).")
    try:
        normalized = normalize_telnyx(event_type, data.get("payload"))
    except InvalidPayload as exc:
        logger.warning("sms.webhook.invalid", extra={"event_id": event_id, "reason": str(exc)})
        return _error(400, f"Event {event_id} cannot be used: {exc}.")

    if isinstance(normalized, DeliveryReport):
        # Unlike a STOP, a delivery report need not be applied before the 2xx: store it in one statement (a
        # redelivery is ignored by the unique event id) and let a worker apply the waiting ones in a batch.
        try:
            _store_pending(event_id, event_type, raw)
        except (OperationalError, InterfaceError):
            logger.exception("sms.webhook.database-unavailable", extra={"event_id": event_id})
            return _database_unavailable()
        _schedule_reports()
        return JsonResponse({"status": "accepted"}, status=202)

    def handle():
        if normalized is None:
            logger.info("sms.webhook.ignored", extra={"event_id": event_id, "event_type": event_type})
            return "ignored", None
        # Each handler answers (outcome, the business concerned or None).
        if isinstance(normalized, InboundMessage):
            return inbound_message_handle(message=normalized)
        return delivery_report_apply(message=normalized)

    try:
        outcome = WebhookEvent.objects.handle_once(
            provider="telnyx", event_id=event_id, event_type=event_type, payload=body, handle=handle
        )
    except (OperationalError, InterfaceError):
        logger.exception("sms.webhook.database-unavailable", extra={"event_id": event_id})
        return _database_unavailable()
    if outcome == DUPLICATE:
        logger.info("sms.webhook.duplicate", extra={"event_id": event_id})
    return JsonResponse({"status": outcome})


PENDING = "pending"  # a stored delivery report not applied yet


def _store_pending(event_id: str, event_type: str, raw: str) -> None:
    """Store a delivery report once, as one INSERT in autocommit: no BEGIN and COMMIT round trips around it (which
    `bulk_create` adds), about a third of this endpoint's time. A redelivered event id is ignored. `raw` is the
    verified body as received; the database reads it into the JSON column, with no second serialisation here.

    The INSERT is its own connection check. Django's per-request health check (CONN_HEALTH_CHECKS) would spend a
    `SELECT 1` round trip before it on every report; instead a connection the database has dropped since the last
    request (a restart, an idle timeout) is closed and the INSERT runs once more on a new one: harmless twice, as the
    event id is unique. A database that is really down still fails the request, and Telnyx retries it.
    """
    quote = connection.ops.quote_name
    row = {
        "provider": "telnyx",
        "event_id": event_id,
        "event_type": event_type,
        "payload": raw,
        "received_at": timezone.now(),
        "outcome": PENDING,
    }
    statement = (
        f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({', '.join(map(quote, row))}) "
        f"VALUES ({', '.join(['%s'] * len(row))}) ON CONFLICT (provider, event_id) DO NOTHING"
    )
    params = list(row.values())
    if not connection.in_atomic_block:
        connection.health_check_done = True  # this request's check is the INSERT below

    def insert():
        with _bound_cursor() as cursor:
            cursor.execute(statement, params)

    reconnecting(insert)


def _database_unavailable():
    """Nothing was recorded, and Telnyx delivers the event again: a 503 that says so, not a 500."""
    response = _error(503, "The database is unavailable, so the event was not recorded; deliver it again later.")
    response["Retry-After"] = "5"
    return response


def _bound_cursor():
    """On PostgreSQL, a cursor that sends the parameters apart from the statement (psycopg's server-side binding):
    the report's body reaches the server as it is, instead of being quoted into a string literal by the client and
    parsed back out of the SQL by the server, as with Django's own (client-side binding) cursors. Still wrapped by
    Django: its error classes, and the query log under DEBUG. Nothing is prepared, so a connection pooler in
    transaction mode is no obstacle."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


_reports_scheduled_at = None  # this process's last request for a batch (time.monotonic())


def _schedule_reports() -> None:
    """Ask a worker to apply the waiting reports: at once where tasks run in-process, else at most once a second
    from each web process (counted in the process, not in Redis: no round trip per report). The beat's periodic run
    picks up whatever a lost request leaves behind."""
    global _reports_scheduled_at
    from .tasks import apply_delivery_reports

    try:
        if current_app.conf.task_always_eager:
            apply_delivery_reports.delay()
            return
        now = time.monotonic()
        if _reports_scheduled_at is None or now - _reports_scheduled_at >= 1.0:
            _reports_scheduled_at = now
            apply_delivery_reports.apply_async(countdown=1)
    except Exception:  # the broker or cache is down: the periodic run picks the reports up
        logger.exception("sms.webhook.schedule-failed")


def delivery_reports_apply_pending(*, limit: int = 2000) -> dict:
    """Apply stored delivery reports, oldest first, as one batch: the handler looks their messages up together and
    writes them in one set-based UPDATE, and the events' outcomes are written in one more. Safe to run concurrently:
    rows are claimed with SKIP LOCKED.

    A report its handler finds early (its message's hand-off not recorded yet) stays pending for a later batch: the
    beat's periodic run, not an immediate one, so that it does not spin while it waits."""
    applied, waiting = 0, []
    with transaction.atomic():
        events = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(provider="telnyx", outcome=PENDING)
            .order_by("id")
            # Only the part normalize_telnyx reads: the database extracts it, and less JSON is decoded here.
            .values_list("id", "event_type", "payload__data__payload")[:limit]
        )
        reports, done = [], []  # done: (event id, outcome, business id)
        for event_id, event_type, payload in events:
            try:
                report = normalize_telnyx(event_type, payload)
            except InvalidPayload:
                report = None
            if report is None:
                done.append((event_id, "ignored", None))
            else:
                reports.append((event_id, report))
        outcomes = delivery_reports_apply(reports=[report for _, report in reports]) if reports else []
        for (event_id, _), (outcome, business) in zip(reports, outcomes, strict=True):
            if outcome == REPORT_EARLY:
                waiting.append(event_id)
                continue
            done.append((event_id, outcome[:64], business.pk if business is not None else None))
            applied += 1
        columns = (("id", "bigint"), ("outcome", "text"), ("business_id", "bigint"))
        assignments = "outcome = v.outcome, business_id = v.business_id"
        values_update(table=WebhookEvent._meta.db_table, columns=columns, rows=done, assignments=assignments)
    remaining = WebhookEvent.objects.filter(outcome=PENDING).exclude(pk__in=waiting).exists()
    return {"applied": applied, "remaining": remaining, **({"waiting": len(waiting)} if waiting else {})}
