"""can_send(): the one consent policy that every send path asks, right before the hand-off to the provider."""

from dataclasses import dataclass
from enum import StrEnum

from accounts.models import Business
from nextalerts.phones import phone_hash as hash_phone
from subscribers.models import Subscriber

from .models import Suppression


class SendKind(StrEnum):
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one reply to a STOP
    HELP_REPLY = "help_reply"
    OPT_IN_REQUEST = "opt_in_request"  # the one "Reply YES to confirm" text after the web form
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    CONVERSATION = "conversation"  # a reply to the consumer's own message
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


# Sent to a consumer who asked for them, even by a suspended business.
COMPLIANCE_KINDS = {SendKind.OPT_OUT_CONFIRMATION, SendKind.HELP_REPLY}
# Need a subscribed subscriber, not merely an unsuppressed number.
SUBSCRIBER_KINDS = {SendKind.OPT_IN_CONFIRMATION, SendKind.TRANSACTIONAL, SendKind.MARKETING}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self):
        return self.allowed


def can_send(business: Business, phone: str, kind: str) -> Decision:
    kind = SendKind(kind)
    if kind == SendKind.OPT_OUT_CONFIRMATION:
        # Created once per opt-out by the STOP handler; it is the one message a suppressed number may get.
        return Decision(True)
    if business.status != Business.Status.ACTIVE and kind not in COMPLIANCE_KINDS:
        return Decision(False, f"business is {business.status}")
    digest = hash_phone(phone)
    suppression = Suppression.objects.filter(business=business, phone_hash=digest).only("reason").first()
    if suppression is not None:
        return Decision(False, f"suppressed ({suppression.reason})")
    if kind == SendKind.OPT_IN_REQUEST:
        status = Subscriber.objects.filter(business=business, phone_number=phone).values_list("status", flat=True)
        if status.first() != Subscriber.Status.PENDING:
            return Decision(False, "no pending web-form sign-up for this number")
        return Decision(True)
    if kind in SUBSCRIBER_KINDS:
        status = Subscriber.objects.filter(business=business, phone_number=phone).values_list("status", flat=True)
        status = status.first()
        if status != Subscriber.Status.SUBSCRIBED:
            return Decision(False, f"not subscribed ({status or 'unknown number'})")
    return Decision(True)
