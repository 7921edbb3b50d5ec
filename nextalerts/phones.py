"""Phone numbers: parsing to E.164 and the keyed hash that identifies a number without storing it."""

import hashlib
import hmac

import phonenumbers
from django.conf import settings


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, *, region: str = "US") -> str:
    """Parse `raw` ("+1 (555) 010-0000", "5550100000") into E.164, or raise InvalidPhoneNumber saying why."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber("A phone number is required, in E.164 form such as +15551234567.")
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number; use E.164 form such as +15551234567.") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"'{raw}' is not a valid phone number; use E.164 form such as +15551234567.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_hash(e164: str) -> str:
    """HMAC-SHA256 of an E.164 number under PHONE_HASH_KEY: stable, and useless without the key."""
    return hmac.new(settings.PHONE_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()
