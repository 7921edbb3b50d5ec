"""A consumer's text, in: stored as a Message once, acted on by consent, answered through the reply lane."""

import logging

from consent.keywords import Intent
from consent.services import inbound_text_handle
from nextalerts.phones import InvalidPhoneNumber, phone_hash, to_e164
from subscribers.models import SenderNumber

from .messages import InboundMessage
from .models import Message
from .services import message_queue

logger = logging.getLogger(__name__)


def _normalized_sender(raw: str) -> str:
    try:
        return to_e164(raw)
    except InvalidPhoneNumber:
        return raw  # short codes and foreign formats are still recorded as they came


def inbound_message_handle(*, message: InboundMessage):
    """Store an inbound text and have consent act on it (opt-out, opt-in, help, or an ordinary text for the inbox);
    queue consent's reply. Runs inside the webhook's transaction: all of it is committed before the 2xx.

    Returns a short outcome for the webhook log, and the business the number belongs to.
    """
    number = SenderNumber.objects.select_related("business").filter(phone_number=message.to_number).first()
    if number is None:
        logger.warning("sms.inbound.unknown-number", extra={"to": message.to_number})
        return "unknown-number", None
    business = number.business
    phone = _normalized_sender(message.from_number)
    if Message.objects.filter(
        direction=Message.Direction.INBOUND, provider_message_id=message.provider_message_id
    ).exists():
        # The same text redelivered under a new event id: it was handled the first time.
        return "duplicate-message", business
    outcome = inbound_text_handle(
        number=number,
        phone=phone,
        text=message.text,
        provider_message_id=message.provider_message_id,
        received_at=message.received_at,
    )
    Message.objects.create(
        business=business,
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.INBOUND if outcome.intent == Intent.MESSAGE else Message.Kind.INBOUND_COMMAND,
        sender_number=number,
        phone_number=phone,
        phone_hash=phone_hash(phone),
        body=message.text,
        status=Message.Status.RECEIVED,
        provider_message_id=message.provider_message_id,
    )
    if outcome.reply is not None:
        message_queue(
            business=business, sender_number=number, phone=phone, kind=outcome.reply.kind, body=outcome.reply.body
        )
    return outcome.intent, business
