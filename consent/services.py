"""Consent writes: the ledger, suppressions, and what happens when a consumer texts a business's number.

Everything here runs inside the caller's transaction (the webhook request's), so an opt-out and its suppression are
committed before the webhook is answered; replies are queued to send only after that commit.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Business
from nextalerts import quiet_hours
from nextalerts.phones import phone_hash
from subscribers.models import Keyword, SenderNumber, Subscriber

from . import replies
from .keywords import Intent, classify
from .locks import lock_phone
from .models import ConsentEvent, Suppression
from .policy import SendKind

logger = logging.getLogger(__name__)

Kind = ConsentEvent.Kind
Method = ConsentEvent.Method


def consent_event_record(
    *,
    business: Business,
    phone: str,
    kind: str,
    method: str,
    evidence: dict,
    provider_message_id: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Append one event to the business's hash-chained ledger."""
    with transaction.atomic():
        # Appends for one business are serialised so that the chain never forks.
        Business.objects.select_for_update().filter(pk=business.pk).values_list("pk", flat=True).first()
        last = (
            ConsentEvent.objects.filter(business=business).order_by("-sequence").values("sequence", "row_hash").first()
        )
        event = ConsentEvent(
            business=business,
            phone_number=phone,
            phone_hash=phone_hash(phone),
            kind=kind,
            method=method,
            # In UTC, as it is read back: the row's hash covers the time as written.
            occurred_at=(occurred_at or timezone.now()).astimezone(UTC),
            evidence=evidence,
            provider_message_id=provider_message_id,
            sequence=(last["sequence"] + 1) if last else 1,
            prev_hash=last["row_hash"] if last else ConsentEvent.GENESIS,
        )
        event.row_hash = event.compute_hash()
        event.save()
    return event


def suppression_add(*, business: Business, phone: str, reason: str, event: ConsentEvent | None = None):
    """Put `phone` on the business's suppression list. Returns (suppression, created).

    A consumer's own opt-out takes over a manual entry, so that the business can no longer lift it.
    """
    digest = phone_hash(phone)
    suppression, created = Suppression.objects.get_or_create(
        business=business, phone_hash=digest, defaults={"phone_number": phone, "reason": reason, "event": event}
    )
    if not created and reason in Suppression.CONSUMER_REASONS and suppression.reason == Suppression.Reason.MANUAL:
        suppression.reason, suppression.event = reason, event
        suppression.save(update_fields=["reason", "event"])
    return suppression, created


def suppression_add_manual(*, business: Business, phone: str, user, request=None) -> Suppression:
    """A business adds a number to its own do-not-text list (recorded in the ledger as an admin opt-out, and in the
    audit log without the number). `request`, where there is one, gives the audit log the client's address."""
    with transaction.atomic():
        lock_phone(business_id=business.pk, phone_hash=phone_hash(phone))
        existing = Suppression.objects.filter(business=business, phone_hash=phone_hash(phone)).first()
        if existing is not None:
            return existing
        event = consent_event_record(
            business=business,
            phone=phone,
            kind=Kind.OPT_OUT,
            method=Method.ADMIN,
            evidence={"reason": "added to the do-not-text list", "by_user": user.pk if user else None},
        )
        suppression, _ = suppression_add(business=business, phone=phone, reason=Suppression.Reason.MANUAL, event=event)
        Subscriber.objects.filter(business=business, phone_number=phone, status=Subscriber.Status.SUBSCRIBED).update(
            status=Subscriber.Status.UNSUBSCRIBED, opted_out_at=event.occurred_at
        )
        audit_record(
            action=AuditEvent.Action.SUPPRESSION_ADDED,
            request=request,
            actor=user,
            business=business,
            target=f"suppression:{suppression.pk}",
            details={"consent_event": event.pk},
        )
    return suppression


class SuppressionNotRemovable(Exception):
    pass


def suppression_remove_manual(*, suppression: Suppression, user, request=None) -> None:
    """Only the business's own manual entries can be removed; a consumer's STOP stands until they opt in again."""
    if suppression.reason != Suppression.Reason.MANUAL:
        raise SuppressionNotRemovable(
            "This number opted out itself; only the consumer can lift it, by texting START or a keyword."
        )
    with transaction.atomic():
        lock_phone(business_id=suppression.business_id, phone_hash=suppression.phone_hash)
        audit_record(
            action=AuditEvent.Action.SUPPRESSION_REMOVED,
            request=request,
            actor=user,
            business=suppression.business,
            target=f"suppression:{suppression.pk}",
        )
        suppression.delete()


def business_help_text_set(*, business: Business, text: str) -> Business:
    """Set the business's own reply to HELP; a blank text goes back to the standard reply.

    A text identical to the standard reply is stored as blank, so it keeps following the name and contact in Settings.
    """
    text = (text or "").strip()
    if text == replies.standard_help_reply(business):
        text = ""
    if text:
        problems = replies.help_text_problems(text, business=business)
        if problems:
            raise ValidationError(
                {"help_text": "The HELP reply must " + "; ".join(problems) + ". Or use the standard reply."}
            )
    business.help_text = text
    business.save(update_fields=["help_text"])
    return business


def suppression_from_carrier(*, business: Business, phone: str, provider_message_id: str, detail: str) -> None:
    """Telnyx refused a send because the recipient had texted STOP to the carrier (error 40300)."""
    with transaction.atomic():
        lock_phone(business_id=business.pk, phone_hash=phone_hash(phone))
        if Suppression.objects.filter(business=business, phone_hash=phone_hash(phone)).exists():
            return
        event = consent_event_record(
            business=business,
            phone=phone,
            kind=Kind.OPT_OUT,
            method=Method.CARRIER,
            evidence={"provider_error": "40300", "detail": detail, "outbound_message_id": provider_message_id},
        )
        suppression_add(business=business, phone=phone, reason=Suppression.Reason.CARRIER, event=event)
        Subscriber.objects.filter(business=business, phone_number=phone).exclude(
            status=Subscriber.Status.UNSUBSCRIBED
        ).update(status=Subscriber.Status.UNSUBSCRIBED, opted_out_at=event.occurred_at)


@dataclass(frozen=True)
class Reply:
    """The text consent answers a consumer's text with; messaging queues it ahead of bulk traffic."""

    kind: str  # a SendKind
    body: str


@dataclass(frozen=True)
class InboundOutcome:
    intent: str  # an Intent's value: "message" for an ordinary text, for the inbox
    reply: Reply | None = None


def inbound_text_handle(
    *, number: SenderNumber, phone: str, text: str, provider_message_id: str, received_at: datetime
) -> InboundOutcome:
    """Act on a consumer's text to one of a business's numbers: opt-out, opt-in, help, or an ordinary message.

    Called by messaging, inside the transaction that stores the text; the ledger entry and the suppression are
    written under the phone's lock, and the reply (if any) is returned for messaging to queue in the same transaction.
    """
    business = number.business
    keywords = list(Keyword.objects.filter(number=number, is_active=True))
    result = classify(text, [k.keyword for k in keywords])
    if result.intent == Intent.MESSAGE:
        return InboundOutcome(intent=result.intent.value)

    evidence = {
        "provider_message_id": provider_message_id,
        "inbound_text": text,
        "to_number": number.phone_number,
        "received_at": received_at.isoformat(),
    }
    if result.intent == Intent.OPT_OUT:
        # Which rule of the grammar read the text as a revocation; anything but the bare keyword is shown to the
        # business in its inbox, with how it was understood.
        evidence["rule"] = result.rule
        if result.understood:
            evidence["understood_as_stop"] = True
    context = {
        "business": business,
        "number": number,
        "phone": phone,
        "evidence": evidence,
        "text": text,
        "provider_message_id": provider_message_id,
        "occurred_at": received_at,
    }
    with transaction.atomic():
        lock_phone(business_id=business.pk, phone_hash=phone_hash(phone))
        if result.intent == Intent.OPT_OUT:
            reply = _handle_opt_out(**context)
        elif result.intent == Intent.HELP:
            reply = _handle_help(**context)
        else:
            keyword = next((k for k in keywords if k.keyword == result.keyword), None)
            reply = _handle_opt_in(**context, keyword=keyword, qr_ref=result.qr_ref)
    return InboundOutcome(intent=result.intent.value, reply=reply)


def _handle_opt_out(*, business, number, phone, evidence, text, provider_message_id, occurred_at) -> Reply | None:
    already = Suppression.objects.filter(
        business=business, phone_hash=phone_hash(phone), reason__in=Suppression.CONSUMER_REASONS
    ).exists()
    body = replies.opt_out_confirmation(business)
    if not already:
        # The evidence records the confirmation the consumer is sent; a repeated STOP gets none.
        evidence["reply_text"] = body
    event = consent_event_record(
        business=business,
        phone=phone,
        kind=Kind.OPT_OUT,
        method=Method.KEYWORD,
        evidence=evidence,
        provider_message_id=provider_message_id,
        occurred_at=occurred_at,
    )
    suppression_add(business=business, phone=phone, reason=Suppression.Reason.STOP, event=event)
    Subscriber.objects.filter(business=business, phone_number=phone).update(
        status=Subscriber.Status.UNSUBSCRIBED, opted_out_at=event.occurred_at
    )
    return None if already else Reply(kind=SendKind.OPT_OUT_CONFIRMATION, body=body)


def _handle_help(*, business, number, phone, evidence, text, provider_message_id, occurred_at) -> Reply | None:
    body = replies.help_reply(business)
    suppressed = Suppression.objects.filter(business=business, phone_hash=phone_hash(phone)).exists()
    if not suppressed:
        evidence["reply_text"] = body
    consent_event_record(
        business=business,
        phone=phone,
        kind=Kind.HELP,
        method=Method.KEYWORD,
        evidence=evidence,
        provider_message_id=provider_message_id,
        occurred_at=occurred_at,
    )
    return None if suppressed else Reply(kind=SendKind.HELP_REPLY, body=body)


PENDING_CONFIRMATION_WINDOW = timedelta(hours=24)


def _handle_opt_in(
    *, business, number, phone, evidence, text, provider_message_id, occurred_at, keyword, qr_ref=""
) -> Reply | None:
    from tracking.models import QRCode

    subscriber = Subscriber.objects.filter(business=business, phone_number=phone).first()
    # A YES, START or keyword within 24 hours of the web form completes that double opt-in.
    confirming = (
        subscriber is not None
        and subscriber.status == Subscriber.Status.PENDING
        and subscriber.pending_since is not None
        and occurred_at - subscriber.pending_since <= PENDING_CONFIRMATION_WINDOW
    )
    # Credit goes to the code only when the keyword texted is the code's own ("JOIN Q7K2" for a JOIN code).
    qr_code = (
        QRCode.objects.filter(number=number, ref=qr_ref, keyword=keyword).first()
        if qr_ref and keyword and not confirming
        else None
    )
    evidence["keyword"] = keyword.keyword if keyword else text.strip()
    if qr_code is not None:
        evidence.update(qr_code_id=qr_code.pk, qr_code_label=qr_code.label, qr_ref=qr_code.ref)
    elif qr_ref:
        evidence["unknown_qr_ref"] = qr_ref
    if confirming:
        evidence["web_form_pending_since"] = subscriber.pending_since.isoformat()
    body = replies.opt_in_confirmation(business, keyword.confirmation_text if keyword else "")
    # A consumer's own opt-in lifts their earlier STOP (or a carrier block); the business's own list stays.
    Suppression.objects.filter(
        business=business, phone_hash=phone_hash(phone), reason__in=Suppression.CONSUMER_REASONS
    ).delete()
    manual = Suppression.objects.filter(business=business, phone_hash=phone_hash(phone)).exists()
    if not manual:
        evidence["reply_text"] = body
    if confirming:
        kind, method = Kind.CONFIRM, Method.WEB_FORM
    elif qr_code is not None:
        kind, method = Kind.OPT_IN, Method.QR_CODE
    else:
        kind, method = Kind.OPT_IN, Method.KEYWORD
    event = consent_event_record(
        business=business,
        phone=phone,
        kind=kind,
        method=method,
        evidence=evidence,
        provider_message_id=provider_message_id,
        occurred_at=occurred_at,
    )
    if subscriber is None:
        subscriber = Subscriber(business=business, phone_number=phone, phone_hash=phone_hash(phone))
    subscriber.opt_in_method = {
        Method.WEB_FORM: Subscriber.Method.WEB_FORM,
        Method.QR_CODE: Subscriber.Method.QR_CODE,
    }.get(method, Subscriber.Method.KEYWORD)
    if qr_code is not None:
        subscriber.qr_code = qr_code
    subscriber.status = Subscriber.Status.SUBSCRIBED
    subscriber.opted_in_at = event.occurred_at
    subscriber.opted_out_at = None
    subscriber.pending_since = None
    subscriber.number = number
    subscriber.quiet_profile = quiet_hours.profile_or_fallback(phone, fallback_tz=business.time_zone)
    subscriber.save()
    if manual:
        logger.info("consent.opt-in.on-manual-suppression", extra={"business": business.pk})
        return None
    return Reply(kind=SendKind.OPT_IN_CONFIRMATION, body=body)
