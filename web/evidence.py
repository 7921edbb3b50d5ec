"""What the dashboard shows of consent records: plain-word labels, and the evidence file for one phone number."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.models import Business
from consent.models import ConsentEvent, Suppression
from messaging.models import Message
from nextalerts.phones import phone_hash
from subscribers.models import Subscriber

KIND_LABELS = {
    ConsentEvent.Kind.OPT_IN: "Joined",
    ConsentEvent.Kind.OPT_OUT: "Opted out",
    ConsentEvent.Kind.HELP: "Asked for help",
    ConsentEvent.Kind.CONFIRM: "Confirmed by replying YES",
    ConsentEvent.Kind.PENDING: "Filled in the web form",
}
METHOD_LABELS = {
    ConsentEvent.Method.KEYWORD: "Text message",
    ConsentEvent.Method.QR_CODE: "QR code",
    ConsentEvent.Method.WEB_FORM: "Web form",
    ConsentEvent.Method.CARRIER: "Carrier block",
    ConsentEvent.Method.ADMIN: "Your team",
}
REASON_LABELS = {
    Suppression.Reason.STOP: "Texted STOP",
    Suppression.Reason.CARRIER: "Blocked at the carrier after a STOP",
    Suppression.Reason.MANUAL: "Added by your team",
}


def label_events(events):
    """Give each event the plain words the pages show (in place; the rows themselves are never saved)."""
    for event in events:
        event.kind_label = KIND_LABELS.get(event.kind, event.kind)
        event.method_label = METHOD_LABELS.get(event.method, event.method)
    return events


@dataclass(frozen=True)
class EvidenceEvent:
    event: ConsentEvent
    kind_label: str
    method_label: str
    evidence_json: str
    hash_matches: bool  # the row's content still gives its stored hash


@dataclass(frozen=True)
class Evidence:
    business: Business
    phone: str
    generated_at: datetime
    subscriber: Subscriber | None
    suppression: Suppression | None
    events: list[EvidenceEvent]
    messages: list[Message]

    @property
    def suppression_reason(self) -> str:
        return REASON_LABELS.get(self.suppression.reason, self.suppression.reason) if self.suppression else ""

    @property
    def empty(self) -> bool:
        return not self.events and not self.messages and self.subscriber is None and self.suppression is None


def _pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)


def evidence_for_phone(*, business: Business, phone: str) -> Evidence:
    """Everything this business holds on one phone number's consent: events with their evidence and hashes, and
    every text exchanged. Rows are matched by the keyed hash, so events whose number was erased are included."""
    digest = phone_hash(phone)
    events = [
        EvidenceEvent(
            event=event,
            kind_label=KIND_LABELS.get(event.kind, event.kind),
            method_label=METHOD_LABELS.get(event.method, event.method),
            evidence_json=_pretty(event.evidence),
            hash_matches=event.compute_hash() == event.row_hash,
        )
        for event in ConsentEvent.objects.filter(business=business, phone_hash=digest).order_by("sequence")
    ]
    messages = list(
        Message.objects.filter(business=business, phone_hash=digest)
        .select_related("sender_number", "campaign")
        .order_by("created_at", "id")
    )
    return Evidence(
        business=business,
        phone=phone,
        generated_at=timezone.now(),
        subscriber=Subscriber.objects.filter(business=business, phone_hash=digest).first(),
        suppression=Suppression.objects.filter(business=business, phone_hash=digest).first(),
        events=events,
        messages=messages,
    )
