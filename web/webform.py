"""The hosted opt-in form's rules: what the consumer is shown, which numbers it will text, its rate limits, and the
sign-up itself (a pending subscriber, a "pending" ledger event and the one "Reply YES" text).

The consumer is subscribed only when their YES arrives (consent.services._handle_opt_in): nothing here subscribes.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Business
from consent import replies
from consent.locks import lock_phone
from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind
from consent.services import consent_event_record
from messaging.models import Message
from messaging.services import message_queue
from nextalerts.phones import InvalidPhoneNumber, phone_hash, to_e164
from subscribers import limits
from subscribers.models import SenderNumber, Subscriber

logger = logging.getLogger(__name__)

# The platform's pages, linked from a business's form unless it gives its own (Business.terms_url, .privacy_url).
TERMS_URL = "/terms/"
PRIVACY_URL = "/privacy/"

# SMS-pumping protection (subscribers.limits, numbers in settings.WEB_FORM_*): every submission counts, refused ones
# too, on this business's form and across every business's forms together.
IP_WINDOW_SECONDS = 60 * 60
NUMBER_WINDOW_SECONDS = 24 * 60 * 60

PhoneType = phonenumbers.PhoneNumberType
# Numbers that can receive a text. US and Canadian numbers are all FIXED_LINE_OR_MOBILE: their ranges do not tell.
TEXTABLE_TYPES = {PhoneType.MOBILE, PhoneType.FIXED_LINE_OR_MOBILE}
REFUSED_TYPES = {
    PhoneType.FIXED_LINE: "That looks like a landline, which can't receive texts. Please enter a mobile number.",
    PhoneType.TOLL_FREE: "That's a toll-free number. Text alerts go to a personal mobile number; please enter yours.",
    PhoneType.PREMIUM_RATE: "That's a premium-rate number, which we never text. Please enter your mobile number.",
    PhoneType.SHARED_COST: "That's a shared-cost service number, which can't receive our texts. "
    "Please enter your mobile number.",
    # Only ranges set aside for VoIP carry this type (the US has none: Google Voice numbers pass as ordinary ones),
    # and such ranges are often not reachable by business texting.
    PhoneType.VOIP: "That's an internet-phone (VoIP) number, which often can't receive business texts. "
    "Please enter your mobile number.",
    PhoneType.PERSONAL_NUMBER: "That's a forwarding (personal) number; texts can't be delivered through it. "
    "Please enter your mobile number.",
    PhoneType.PAGER: "That's a pager number, which can't receive our texts. Please enter your mobile number.",
    PhoneType.UAN: "That's a company switchboard number, which can't receive texts. Please enter your mobile number.",
    PhoneType.VOICEMAIL: "That's a voicemail access number, which can't receive texts. "
    "Please enter your mobile number.",
}
UNKNOWN_TYPE = "We can't tell that this number can receive texts. Please enter your mobile number."


class NumberRefused(ValueError):
    """The number typed into the form cannot be texted; the message says why, for the consumer to read."""


class Outcome(StrEnum):
    SENT = "sent"  # pending subscriber, ledger event, and the "Reply YES" text queued
    ALREADY_PENDING = "already_pending"  # a "Reply YES" text went out, however long ago: there is never a second
    ALREADY_SUBSCRIBED = "already_subscribed"
    OPTED_OUT = "opted_out"  # the consumer's own STOP (or carrier block) stands: they must text START themselves
    BLOCKED = "blocked"  # on the business's own do-not-text list


@dataclass(frozen=True)
class SignUpResult:
    outcome: Outcome
    subscriber: Subscriber | None = None
    message: Message | None = None


@dataclass(frozen=True)
class Disclosure:
    """What the consumer agrees to by ticking the box: `text` is recorded as evidence, `html` is the same words with
    the Terms and Privacy Policy linked."""

    text: str
    html: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


# --- What the consumer is shown and sent ------------------------------------------------------------------------------


def disclosure_for(*, business: Business) -> Disclosure:
    name = business.name
    lead = (
        f"Yes, sign me up for {name} text alerts. I agree to receive recurring automated text messages from {name} "
        "at the number above. Consent is not a condition of purchase. "
        f"{replies.FREQUENCY} {replies.RATES} Reply STOP to cancel, HELP for help."
    )
    terms, privacy = business.terms_url or TERMS_URL, business.privacy_url or PRIVACY_URL
    if business.terms_url or business.privacy_url:
        # The evidence names the pages the consumer was pointed to, since they are the business's own and can change.
        text = f"{lead} See our Terms ({terms}) and Privacy Policy ({privacy})."
    else:
        text = f"{lead} See our Terms and Privacy Policy."
    html = format_html('{} See our <a href="{}">Terms</a> and <a href="{}">Privacy Policy</a>.', lead, terms, privacy)
    return Disclosure(text=text, html=html)


def opt_in_request_text(*, business: Business) -> str:
    return (
        f"{business.name}: Reply YES to confirm you want text alerts. {replies.FREQUENCY} {replies.RATES} "
        "Reply STOP to cancel."
    )


def sender_for(*, business: Business) -> SenderNumber | None:
    """The number the form's texts go out from, and the YES comes back to: the business's first."""
    return business.numbers.order_by("id").first()


def region_of(*, number: SenderNumber) -> str:
    """The country the sender number texts in ("US"); typed numbers without a country code are read as local to it."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number.phone_number)) or "US"
    except phonenumbers.NumberParseException:
        return "US"


# --- Which numbers the form texts -------------------------------------------------------------------------------------


def _why_invalid(raw: str, region: str) -> str:
    example = "Enter your mobile number with its area code, like (312) 555-0123."
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return f"“{raw}” doesn't look like a phone number. {example}"
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    Reason = phonenumbers.ValidationResult
    if reason == Reason.IS_POSSIBLE_LOCAL_ONLY:
        return f"“{raw}” is missing its area code. {example}"
    if reason in (Reason.TOO_SHORT, Reason.INVALID_LENGTH):
        return f"“{raw}” is too short for a phone number. {example}"
    if reason == Reason.TOO_LONG:
        return f"“{raw}” has too many digits for a phone number. {example}"
    if reason == Reason.INVALID_COUNTRY_CODE:
        return f"“{raw}” starts with a country code that doesn't exist. {example}"
    return f"“{raw}” isn't a phone number in service; check the area code and digits. {example}"


def phone_for_texting(*, raw: str, region: str) -> str:
    """The typed number in E.164 if the form may text it; otherwise NumberRefused saying why.

    Refused: what is not a valid number; every type but mobile (landlines, toll-free, premium-rate, shared-cost,
    VoIP, personal, pager...); and numbers outside the sender's country, since SMS pumping lives on international
    and Caribbean "+1" routes and a US long code cannot text abroad anyway.
    """
    raw = (raw or "").strip()
    if not raw:
        raise NumberRefused("Enter your mobile number.")
    try:
        e164 = to_e164(raw, region=region)
    except InvalidPhoneNumber as exc:
        raise NumberRefused(_why_invalid(raw, region)) from exc
    parsed = phonenumbers.parse(e164)
    kind = phonenumbers.number_type(parsed)
    if kind not in TEXTABLE_TYPES:
        raise NumberRefused(REFUSED_TYPES.get(kind, UNKNOWN_TYPE))
    if phonenumbers.region_code_for_number(parsed) != region:
        raise NumberRefused(f"This sign-up form only texts {region} mobile numbers; “{raw}” is not one.")
    return e164


# --- Rate limits ------------------------------------------------------------------------------------------------------


def _over(scopes: list[tuple[str, int, int]]) -> bool:
    """Count a hit on every (key, window, limit) — all of them, so a refused submission still counts everywhere — and
    say whether any is over its limit."""
    over = False
    for key, window, limit in scopes:
        over |= limits.hit(key=key, window_seconds=window) > limit
    return over


def web_form_ip_throttled(*, business: Business, ip: str | None) -> bool:
    """Count a submission from `ip`; True once it is over the limit on this business's form or on all forms."""
    return _over(
        [
            (limits.ip_key(ip=ip, business=business.pk), IP_WINDOW_SECONDS, settings.WEB_FORM_IP_HOURLY),
            (limits.ip_key(ip=ip, business=None), IP_WINDOW_SECONDS, settings.WEB_FORM_IP_HOURLY_ALL_BUSINESSES),
        ]
    )


def web_form_number_throttled(*, business: Business, phone: str) -> bool:
    """Count a submission for `phone` (E.164), whatever becomes of it; True once it is over the limit on this
    business's form or on all forms."""
    return _over(
        [
            (
                limits.number_key(phone=phone, business=business.pk),
                NUMBER_WINDOW_SECONDS,
                settings.WEB_FORM_NUMBER_DAILY,
            ),
            (
                limits.number_key(phone=phone, business=None),
                NUMBER_WINDOW_SECONDS,
                settings.WEB_FORM_NUMBER_DAILY_ALL_BUSINESSES,
            ),
        ]
    )


# --- The sign-up ------------------------------------------------------------------------------------------------------


def web_form_sign_up(
    *,
    business: Business,
    number: SenderNumber,
    phone: str,
    disclosure: Disclosure,
    ip: str | None,
    user_agent: str,
    form_url: str,
    now: datetime | None = None,
) -> SignUpResult:
    """The consumer submitted the form with the box ticked: make them pending and send the one "Reply YES" text.

    Under the same per-phone lock as a STOP. Refused, with nothing written or sent, when the number opted out or is
    on the business's do-not-text list, is already subscribed, or is pending: it was sent its one "Reply YES" text,
    however long ago, and an unconfirmed number is never texted again (their own YES or keyword still subscribes it).
    """
    now = now or timezone.now()
    digest = phone_hash(phone)
    with transaction.atomic():
        lock_phone(business_id=business.pk, phone_hash=digest)
        # The form is strict: it never texts a suppressed number, not even to ask for the YES that would lift a STOP.
        reason = Suppression.objects.filter(business=business, phone_hash=digest).values_list("reason", flat=True)
        reason = reason.first()
        if reason is not None:
            outcome = Outcome.OPTED_OUT if reason in Suppression.CONSUMER_REASONS else Outcome.BLOCKED
            logger.info("subscribers.web-form.refused", extra={"business": business.pk, "outcome": outcome})
            return SignUpResult(outcome)
        subscriber = Subscriber.objects.select_for_update().filter(business=business, phone_number=phone).first()
        if subscriber is not None and subscriber.status == Subscriber.Status.SUBSCRIBED:
            return SignUpResult(Outcome.ALREADY_SUBSCRIBED, subscriber)
        if subscriber is not None and subscriber.status == Subscriber.Status.PENDING:
            return SignUpResult(Outcome.ALREADY_PENDING, subscriber)

        body = opt_in_request_text(business=business)
        consent_event_record(
            business=business,
            phone=phone,
            kind=ConsentEvent.Kind.PENDING,
            method=ConsentEvent.Method.WEB_FORM,
            evidence={
                "ip": ip,
                "user_agent": user_agent,
                "disclosure_text": disclosure.text,
                "checkbox": True,
                "submitted_at": now.isoformat(),
                "form_url": form_url,
                "to_number": number.phone_number,
                "request_text": body,
            },
            occurred_at=now,
        )
        if subscriber is None:
            subscriber = Subscriber(business=business, phone_number=phone, phone_hash=digest)
        # Pending, never subscribed: only the consumer's YES (consent.services) makes it so.
        subscriber.status = Subscriber.Status.PENDING
        subscriber.pending_since = now
        subscriber.opt_in_method = Subscriber.Method.WEB_FORM
        subscriber.number = number
        subscriber.save()
        message = message_queue(
            business=business, sender_number=number, phone=phone, kind=SendKind.OPT_IN_REQUEST, body=body
        )
    logger.info("subscribers.web-form.sent", extra={"business": business.pk, "message_id": message.pk})
    return SignUpResult(Outcome.SENT, subscriber, message)
