"""Reads for the dashboard's subscriber and inbox pages, which need consent, messages and clicks: each in a fixed
number of queries, whatever the size of the business."""

import re
from dataclasses import dataclass
from datetime import UTC

from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind, can_send_many
from consent.replies import REQUIRED_CONFIRMATION_ELEMENTS, help_reply, opt_in_confirmation
from messaging.models import Message
from nextalerts.phones import phone_display
from subscribers.models import Keyword, SenderNumber, Subscriber
from tracking.models import Click

# A consent history longer than this is shown from its most recent events (the full ledger is in the export).
TIMELINE_LIMIT = 100
CLICKS_LIMIT = 50


@dataclass
class SubscriberPage:
    """Everything the subscriber page shows besides the paginated message history."""

    subscriber: Subscriber
    suppression: Suppression | None
    events: list[ConsentEvent]
    events_truncated: bool
    clicks: list[Click]


def subscriber_page(*, subscriber: Subscriber) -> SubscriberPage:
    business = subscriber.business_id
    suppression = Suppression.objects.filter(business_id=business, phone_hash=subscriber.phone_hash).first()
    events = list(
        ConsentEvent.objects.filter(business_id=business, phone_hash=subscriber.phone_hash).order_by(
            "-occurred_at", "-id"
        )[: TIMELINE_LIMIT + 1]
    )
    truncated = len(events) > TIMELINE_LIMIT
    events = list(reversed(events[:TIMELINE_LIMIT]))  # oldest first: the timeline reads as what happened
    for event in events:
        event.evidence_items = evidence_items(event.evidence)
    clicks = list(
        Click.objects.filter(
            business_id=business,
            is_preview=False,
            message__business_id=business,
            message__phone_hash=subscriber.phone_hash,
        )
        .select_related("campaign")
        .order_by("-clicked_at", "-id")[:CLICKS_LIMIT]
    )
    return SubscriberPage(subscriber, suppression, events, truncated, clicks)


def subscriber_messages(*, subscriber: Subscriber) -> QuerySet:
    """Every text to and from this subscriber's number in this business, newest first, with the links they clicked."""
    clicks = Click.objects.filter(business_id=subscriber.business_id, is_preview=False).only(
        "message_id", "url", "clicked_at"
    )
    return (
        Message.objects.filter(business_id=subscriber.business_id, phone_hash=subscriber.phone_hash)
        .select_related("campaign")
        .prefetch_related(Prefetch("clicks", queryset=clicks.order_by("clicked_at", "id"), to_attr="person_clicks"))
        .order_by("-created_at", "-id")
    )


# Evidence keys in the order and words a business owner reads them; unknown keys follow, humanised.
EVIDENCE_LABELS = {
    "inbound_text": "Text received",
    "keyword": "Keyword",
    "qr_code_label": "QR code",
    "qr_ref": "QR code reference",
    "unknown_qr_ref": "Unknown QR code reference",
    "to_number": "Texted to",
    "received_at": "Received at",
    "provider_message_id": "Telnyx message id",
    "web_form_pending_since": "Web form filled in at",
    "submitted_at": "Form submitted at",
    "form_url": "Form address",
    "checkbox": "Consent box ticked",
    "disclosure_text": "Disclosure shown",
    "ip": "IP address",
    "user_agent": "Browser (user agent)",
    "request_text": "Confirmation request sent",
    "reply_text": "Reply sent",
    "reason": "Reason",
    "provider_error": "Carrier error code",
    "detail": "Detail",
    "outbound_message_id": "Blocked message id",
    "by_user": "By user id",
}
HIDDEN_EVIDENCE = {"qr_code_id"}


def evidence_items(evidence) -> list[tuple[str, str]]:
    if not isinstance(evidence, dict):
        return [("Evidence", str(evidence))] if evidence else []
    items = []
    for key, label in EVIDENCE_LABELS.items():
        if key in evidence and evidence[key] not in (None, ""):
            items.append((label, _evidence_value(evidence[key])))
    for key, value in evidence.items():
        if key not in EVIDENCE_LABELS and key not in HIDDEN_EVIDENCE and value not in (None, ""):
            items.append((str(key).replace("_", " ").capitalize(), _evidence_value(value)))
    return items


E164 = re.compile(r"\+\d{8,15}")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*")


def _evidence_value(value) -> str:
    """A piece of evidence as the page shows it: a time in the business's zone ("Dec 3, 2026, 1:45:00 p.m.") and a
    number as people write it; the ledger itself (and the export) keep what was recorded."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    text = str(value)
    if ISO_TIMESTAMP.fullmatch(text) and (moment := parse_datetime(text)) is not None:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return date_format(timezone.localtime(moment), "M j, Y, g:i:s a")
    if E164.fullmatch(text):
        return phone_display(text)
    return text


# --- Inbox ------------------------------------------------------------------------------------------------------------


def inbox_messages(*, business) -> QuerySet:
    """Ordinary texts people sent the business, newest first; keywords, STOP and HELP are handled, not shown, except
    an opt-out understood from anything but the bare keyword ("please stop texting me"), which is shown flagged
    (`understood_as_stop`) so the business sees how it was read."""
    understood = ConsentEvent.objects.filter(
        business=business, kind=ConsentEvent.Kind.OPT_OUT, evidence__understood_as_stop=True
    ).values("provider_message_id")
    return (
        Message.objects.filter(business=business, direction=Message.Direction.INBOUND)
        .filter(
            Q(kind=Message.Kind.INBOUND)
            | Q(kind=Message.Kind.INBOUND_COMMAND, provider_message_id__in=Subquery(understood))
        )
        .annotate(understood_as_stop=Q(kind=Message.Kind.INBOUND_COMMAND))
        .select_related("sender_number")
        .order_by("-created_at", "-id")
    )


@dataclass
class Conversation:
    phone: str
    subscriber: Subscriber | None
    messages: list
    number: SenderNumber | None
    can_reply: bool
    reason: str


def inbox_conversations(*, business, messages) -> list[Conversation]:
    """The page's texts grouped by sender (most recent first), with who they are and whether a reply may go out:
    two queries for the page, whatever its length."""
    grouped: dict[str, list] = {}
    for message in messages:
        grouped.setdefault(message.phone_number, []).append(message)
    phones = list(grouped)
    subscribers = {
        s.phone_number: s
        for s in Subscriber.objects.filter(business=business, phone_number__in=phones).only(
            "id", "phone_number", "status", "name"
        )
    }
    decisions = can_send_many(business, phones, SendKind.CONVERSATION) if phones else {}
    conversations = []
    for phone, texts in grouped.items():
        decision = decisions.get(phone)
        conversations.append(
            Conversation(
                phone=phone,
                subscriber=subscribers.get(phone),
                messages=texts,
                number=texts[0].sender_number,
                can_reply=bool(decision),
                reason=decision.reason if decision is not None else "",
            )
        )
    return conversations


def business_texts(*, business) -> dict:
    """The texts the business's subscribers get without anyone writing them: the default confirmation and HELP."""
    return {"default_confirmation": opt_in_confirmation(business), "help_reply": help_reply(business)}


REQUIREMENT_LABELS = {
    "frequency": "Msg frequency varies",
    "rates": "Msg & data rates may apply",
    "help": "HELP (e.g. Reply HELP for help)",
    "stop": "STOP (e.g. STOP to cancel)",
}


def confirmation_requirements(*, business) -> list[dict]:
    """What a custom confirmation must contain, for the form's live checklist. consent.replies stays the authority:
    the same patterns, checked again on the server when the form is sent."""
    requirements = [{"label": f"The business name ({business.name})", "text": business.name}]
    for what, pattern, _fix in REQUIRED_CONFIRMATION_ELEMENTS:
        requirements.append(
            {
                "label": REQUIREMENT_LABELS.get(what, what),
                "pattern": pattern.pattern,
                "flags": "i" if pattern.flags & re.IGNORECASE else "",
            }
        )
    return requirements


# --- Numbers and keywords ---------------------------------------------------------------------------------------------


def numbers_with_keywords(*, business) -> list[SenderNumber]:
    keywords = Keyword.objects.order_by("keyword")
    numbers = list(
        SenderNumber.objects.filter(business=business)
        .prefetch_related(Prefetch("keywords", queryset=keywords))
        .order_by("id")
    )
    default = opt_in_confirmation(business)
    for number in numbers:
        for keyword in number.keywords.all():
            keyword.confirmation_shown = keyword.confirmation_text or default
    return numbers
