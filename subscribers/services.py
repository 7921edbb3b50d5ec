"""Writes for numbers, keywords and the business's own fields on subscribers.

There is deliberately no service that subscribes a number: only consent.services does that, on the consumer's own
text.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consent.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, normalize
from consent.replies import confirmation_problems
from messaging import get_backend
from messaging.messages import NumberCheckUnavailable as SmsNumberCheckUnavailable
from nextalerts.phones import InvalidPhoneNumber, to_e164

from .models import Keyword, SenderNumber, Subscriber, Tag

logger = logging.getLogger(__name__)

KEYWORD_PATTERN = re.compile(r"^[A-Za-z0-9]{2,20}$")
RESERVED_KEYWORDS = {w.upper() for w in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS if " " not in w}

NOT_ON_ACCOUNT = "This number is not on your Telnyx account: buy or port it in the Telnyx portal first."
TAKEN_BY_ANOTHER = "Another business already uses this number."
ALREADY_YOURS = "This number is already one of yours."
CHECK_UNAVAILABLE = (
    "We could not check with Telnyx that this number is on your account, so it was not added. "
    "Please try again in a minute."
)


class NumberCheckUnavailable(Exception):
    """The provider could not say whether the platform owns the number; `str()` is the message for the user."""


def number_owned_check(*, phone_number: str) -> None:
    """Raise ValidationError unless the platform's provider account owns `phone_number` (E.164), as the SMS backend
    answers it; NumberCheckUnavailable when the provider cannot say."""
    try:
        owned = get_backend().number_owned(phone_number)
    except SmsNumberCheckUnavailable as exc:
        logger.warning("subscribers.number.check-unavailable", extra={"reason": str(exc)})
        raise NumberCheckUnavailable(CHECK_UNAVAILABLE) from exc
    if not owned:
        logger.info("subscribers.number.not-owned")
        raise ValidationError(NOT_ON_ACCOUNT)


def number_create(*, business, phone_number, messaging_profile_id="", messages_per_second=1) -> SenderNumber:
    """Register a sender number: only one the platform's provider account owns (asked through the SMS backend, so a
    business cannot claim, say, a subscriber's mobile), and only once on the whole platform.

    Raises ValidationError saying what to fix, or NumberCheckUnavailable when the provider cannot answer.
    """
    try:
        e164 = to_e164(phone_number)
    except InvalidPhoneNumber as exc:
        raise ValidationError({"phone_number": str(exc)}) from exc

    def taken():
        holder = SenderNumber.objects.filter(phone_number=e164).values_list("business_id", flat=True).first()
        if holder is None:
            return None
        return ValidationError({"phone_number": ALREADY_YOURS if holder == business.pk else TAKEN_BY_ANOTHER})

    if (error := taken()) is not None:
        raise error
    try:
        number_owned_check(phone_number=e164)
    except ValidationError as exc:
        raise ValidationError({"phone_number": exc.messages}) from exc
    try:
        with transaction.atomic():
            return SenderNumber.objects.create(
                business=business,
                phone_number=e164,
                messaging_profile_id=messaging_profile_id,
                messages_per_second=messages_per_second,
            )
    except IntegrityError as exc:  # registered by someone else while Telnyx was asked
        raise taken() or ValidationError({"phone_number": TAKEN_BY_ANOTHER}) from exc


def keyword_clean(*, business, number, keyword, confirmation_text, instance=None) -> tuple[str, str]:
    """Check a keyword and its confirmation text; return them normalised, or raise ValidationError saying what to
    fix. Used by keyword_create/keyword_update and by the admin form."""
    word = (keyword or "").strip()
    if not KEYWORD_PATTERN.match(word):
        raise ValidationError({"keyword": "Use one word of 2 to 20 letters or digits, such as JOIN or PIZZA."})
    word = word.upper()
    if word in RESERVED_KEYWORDS:
        raise ValidationError({"keyword": f"{word} is reserved for opt-in, opt-out and help; choose another word."})
    clash = Keyword.objects.filter(number=number, keyword__iexact=word)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError({"keyword": f"{word} is already a keyword on {number.phone_number}."})
    text = (confirmation_text or "").strip()
    if text:
        problems = confirmation_problems(text, business_name=business.name)
        if problems:
            raise ValidationError(
                {
                    "confirmation_text": "The confirmation must "
                    + "; ".join(problems)
                    + ". Leave it blank for the default."
                }
            )
    return word, text


def keyword_create(*, business, number, keyword, confirmation_text="", is_active=True) -> Keyword:
    if number.business_id != business.pk:
        raise ValidationError({"number": "No such number in your business."})
    word, text = keyword_clean(business=business, number=number, keyword=keyword, confirmation_text=confirmation_text)
    try:
        with transaction.atomic():
            return Keyword.objects.create(
                business=business, number=number, keyword=word, confirmation_text=text, is_active=is_active
            )
    except IntegrityError as exc:  # a concurrent request took the word between the check and the write
        raise ValidationError({"keyword": f"{word} is already a keyword on {number.phone_number}."}) from exc


def keyword_update(*, instance: Keyword, **changes) -> Keyword:
    number = changes.get("number", instance.number)
    if number.business_id != instance.business_id:
        raise ValidationError({"number": "No such number in your business."})
    word, text = keyword_clean(
        business=instance.business,
        number=number,
        keyword=changes.get("keyword", instance.keyword),
        confirmation_text=changes.get("confirmation_text", instance.confirmation_text),
        instance=instance,
    )
    instance.number, instance.keyword, instance.confirmation_text = number, word, text
    instance.is_active = changes.get("is_active", instance.is_active)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:  # a concurrent request took the word between the check and the write
        raise ValidationError({"keyword": f"{word} is already a keyword on {number.phone_number}."}) from exc
    return instance


def tag_names_normalize(names) -> list[str]:
    """Tag names as stored: case, punctuation around and repeated spaces ignored ("#VIP!" is "vip")."""
    return sorted({normalize(name)[:50] for name in names or [] if isinstance(name, str) and normalize(name)})


def subscriber_update(*, subscriber: Subscriber, **changes) -> Subscriber:
    """Change the business's own notes on a subscriber. Consent fields are not among them."""
    allowed = {"name", "email", "notes", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in sorted(unknown)})
    with transaction.atomic():
        for field in ("name", "email", "notes"):
            if field in changes:
                setattr(subscriber, field, changes[field])
        subscriber.save()
        if "tags" in changes:
            names = tag_names_normalize(changes["tags"])
            tags = [Tag.objects.get_or_create(business=subscriber.business, name=n)[0] for n in names]
            subscriber.tags.set(tags)
    return subscriber


MIN_RATE, MAX_RATE = 1, 1000


def number_update(*, instance: SenderNumber, **changes) -> SenderNumber:
    """Change a number's Telnyx messaging profile or sending rate. The phone number itself stays: a different number
    is a new SenderNumber, so the history of who texted which number stays true."""
    allowed = {"messaging_profile_id", "messages_per_second"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in sorted(unknown)})
    if "messages_per_second" in changes:
        rate = changes["messages_per_second"]
        if not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
            raise ValidationError(
                {"messages_per_second": f"Use a rate between {MIN_RATE} and {MAX_RATE} messages per second."}
            )
        instance.messages_per_second = rate
    if "messaging_profile_id" in changes:
        instance.messaging_profile_id = (changes["messaging_profile_id"] or "").strip()
    instance.save(update_fields=sorted(changes))
    return instance


def number_delete(*, instance: SenderNumber) -> None:
    """Remove a number with its keywords and QR codes. Messages and subscribers keep their history; campaigns that
    were to send from it need another number."""
    instance.delete()


def keyword_delete(*, instance: Keyword) -> None:
    """Remove a keyword (and the QR codes that texted it); people already subscribed stay subscribed."""
    instance.delete()
