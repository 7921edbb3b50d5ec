"""can_send(): the one consent policy that every send path asks, right before the hand-off to the provider."""

from dataclasses import dataclass
from enum import StrEnum

from accounts import billing
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
# Paused while a payment is overdue beyond the grace period. Only campaigns: one-to-one transactional texts and
# inbox replies answer someone who is waiting, and consent replies (STOP, HELP, opt-in) must never depend on the bill.
BILLING_PAUSED_KINDS = {SendKind.MARKETING}
BILLING_PAUSED = "billing: payment overdue"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self):
        return self.allowed


def can_send(business: Business, phone: str, kind: str) -> Decision:
    return can_send_many(business, [phone], kind)[phone]


def can_send_many(business: Business, phones, kind: str) -> dict[str, Decision]:
    """can_send() for a batch of one business's numbers, in two queries whatever its size."""
    kind = SendKind(kind)
    phones = list(dict.fromkeys(phones))
    if kind == SendKind.OPT_OUT_CONFIRMATION:
        # Created once per opt-out by the STOP handler; it is the one message a suppressed number may get.
        return {phone: Decision(True) for phone in phones}
    if business.status != Business.Status.ACTIVE and kind not in COMPLIANCE_KINDS:
        return {phone: Decision(False, f"business is {business.status}") for phone in phones}
    if kind in BILLING_PAUSED_KINDS and billing.campaigns_paused(business):
        return {phone: Decision(False, BILLING_PAUSED) for phone in phones}
    digests = {phone: hash_phone(phone) for phone in phones}
    suppressed = dict(
        Suppression.objects.filter(business=business, phone_hash__in=digests.values()).values_list(
            "phone_hash", "reason"
        )
    )
    statuses = {}
    if kind in SUBSCRIBER_KINDS or kind == SendKind.OPT_IN_REQUEST:
        statuses = dict(
            Subscriber.objects.filter(business=business, phone_number__in=phones).values_list("phone_number", "status")
        )
    decisions = {}
    for phone in phones:
        status = statuses.get(phone)
        if digests[phone] in suppressed:
            decisions[phone] = Decision(False, f"suppressed ({suppressed[digests[phone]]})")
        elif kind == SendKind.OPT_IN_REQUEST and status != Subscriber.Status.PENDING:
            decisions[phone] = Decision(False, "no pending web-form sign-up for this number")
        elif kind in SUBSCRIBER_KINDS and status != Subscriber.Status.SUBSCRIBED:
            decisions[phone] = Decision(False, f"not subscribed ({status or 'unknown number'})")
        else:
            decisions[phone] = Decision(True)
    return decisions
