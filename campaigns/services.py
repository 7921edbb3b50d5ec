"""The send path: queue a message, and hand it to the provider only after consent says yes, under the phone lock.

A message row records the hand-off, so a task that runs twice sends once.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from consent.locks import lock_phone
from consent.policy import can_send
from nextalerts.phones import phone_hash
from nextalerts.sms import get_backend
from nextalerts.sms.messages import DeliveryReport, OutboundSms, SendError, SendOutcomeUnknown

from .models import Message

logger = logging.getLogger(__name__)

# Telnyx: "Blocked due to STOP message" — the recipient opted out at the carrier.
CARRIER_STOP_CODES = {"40300"}


class RetryLater(Exception):
    """The provider certainly did not take the message; the task should try again later."""


def message_queue(*, business, sender_number, phone, kind, body) -> Message:
    """Record an outbound message and send it through a worker once the current transaction commits."""
    message = Message.objects.create(
        business=business,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        sender_number=sender_number,
        phone_number=phone,
        phone_hash=phone_hash(phone),
        body=body,
        status=Message.Status.QUEUED,
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    """Hand a message to the workers. If the broker is down the row stays QUEUED and the sweeper queues it again:
    the webhook that queued it has already committed its consent change and must still answer 2xx."""
    from .tasks import send_message

    try:
        send_message.delay(message_id)
    except Exception:
        logger.exception("sms.queue.failed", extra={"message_id": message_id})


def messages_requeue_stale(*, older_than: timedelta = timedelta(minutes=2), limit: int = 5000) -> dict:
    """Queue again the outbound messages that have waited too long (a lost task, a broker outage).

    Safe to overlap with the original task: message_send() hands over only a QUEUED row, under its row lock.
    """
    cutoff = timezone.now() - older_than
    ids = list(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED, updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        _enqueue(message_id)
    return {"requeued": len(ids)}


def message_send(*, message_id: int) -> Message:
    """Send one queued message. Safe to call any number of times: only a QUEUED message is ever handed over."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("business", "sender_number")
            .filter(pk=message_id, direction=Message.Direction.OUTBOUND)
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return message
        # The same lock a STOP for this phone takes: once a STOP has been acknowledged, this check sees it.
        lock_phone(business_id=message.business_id, phone_hash=message.phone_hash)
        decision = can_send(message.business, message.phone_number, message.kind)
        message.attempts += 1
        if not decision:
            message.status, message.error_detail = Message.Status.BLOCKED, decision.reason
            message.save(update_fields=["status", "error_detail", "attempts", "updated_at"])
            logger.info("sms.send.blocked", extra={"message_id": message.pk, "reason": decision.reason})
            return message
        if message.sender_number is None:
            message.status, message.error_detail = Message.Status.FAILED, "the sender number was removed"
            message.save(update_fields=["status", "error_detail", "attempts", "updated_at"])
            return message
        sms = OutboundSms(
            from_number=message.sender_number.phone_number,
            to_number=message.phone_number,
            text=message.body,
            messaging_profile_id=message.sender_number.messaging_profile_id,
            reference=f"nextalerts-message-{message.pk}",
        )
        try:
            result = get_backend().send(sms)
        except SendError as exc:
            if exc.retryable:
                raise RetryLater(str(exc)) from exc  # rolls back: the row stays QUEUED
            message.status, message.error_code, message.error_detail = Message.Status.FAILED, exc.code, str(exc)[:500]
        except SendOutcomeUnknown as exc:
            # It may have gone out: never send it again.
            message.status, message.error_code, message.error_detail = (
                Message.Status.FAILED,
                "unknown",
                f"hand-off uncertain, not repeated: {exc}"[:500],
            )
        else:
            message.status, message.provider_message_id = Message.Status.SENT, result.provider_message_id
            message.sent_at = timezone.now()
        message.save()
    if message.error_code in CARRIER_STOP_CODES:
        from consent.services import suppression_from_carrier

        suppression_from_carrier(
            business=message.business, phone=message.phone_number, provider_message_id="", detail=message.error_detail
        )
    return message


def message_give_up(*, message_id: int, reason: str) -> None:
    """A message the provider never took, after every retry: it is failed, and never sent."""
    Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, error_code="retries", error_detail=reason[:500], updated_at=timezone.now()
    )


def delivery_report_apply(*, message: DeliveryReport) -> tuple[str, Business | None]:
    """Move an outbound message forward on a provider delivery report; a late or repeated report changes nothing."""
    order = [Message.Status.QUEUED, Message.Status.SENT, Message.Status.DELIVERED]
    row = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, provider_message_id=message.provider_message_id
    ).first()
    if row is None:
        return "unknown-message", None
    if message.status == Message.Status.FAILED:
        updated = Message.objects.filter(pk=row.pk, status__in=order[:2]).update(
            status=Message.Status.FAILED, error_code=message.error_code, error_detail=message.error_detail
        )
        if updated and message.error_code in CARRIER_STOP_CODES:
            from consent.services import suppression_from_carrier

            suppression_from_carrier(
                business=row.business,
                phone=row.phone_number,
                provider_message_id=row.provider_message_id,
                detail=message.error_detail,
            )
        return "delivery-failed", row.business
    earlier = order[: order.index(message.status)]
    Message.objects.filter(pk=row.pk, status__in=earlier).update(status=message.status)
    return f"delivery-{message.status}", row.business
