"""Phone numbers: parsing to E.164, showing them to people, and the keyed hash that identifies a number without
storing it.

Numbers are stored, typed in, exported and sent to the API in E.164 ("+12025550143"). Pages show them as people
write them: national form for numbers of the business's own country ("(202) 555-0143"), international form for the
others ("+44 20 7946 0958"). Like Django's current time zone, the current business's country is activated for the
request (accounts.middleware) and read by `phone_display` and the `phone` template filter.
"""

import hashlib
import hmac
from collections.abc import Callable

import phonenumbers
from asgiref.local import Local
from django.conf import settings

DEFAULT_REGION = "US"  # where no business is active (public pages pass theirs), and for a business with no number

_active = Local()


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


def phone_region(number) -> str | None:
    """The country ("US", "GB") of a number written with its country code, or None for anything that is not one."""
    if not isinstance(number, str) or not number.strip().startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code
    )
    return None if region == phonenumbers.UNKNOWN_REGION else region


def activate_region(region: str | Callable[[], str]) -> None:
    """Show numbers for people of `region` in this thread or task until deactivated; a function is called the first
    time a number is shown (so a page that shows none does not pay for finding the region)."""
    _active.value = region


def deactivate_region() -> None:
    if hasattr(_active, "value"):
        del _active.value


def current_region() -> str:
    region = getattr(_active, "value", None)
    if callable(region):
        region = _active.value = region() or DEFAULT_REGION
    return region or DEFAULT_REGION


def phone_display(number, *, region: str | None = None) -> str:
    """An E.164 number as people write it: national form in `region` (by default the active business's country),
    international form otherwise. Anything that is not a phone number (blank, erased, typed freely) is given back
    unchanged."""
    if not isinstance(number, str) or not number.startswith("+"):
        return number
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    # A number outside any assigned range (a 555 demo number) counts as its calling code's main country.
    country = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code
    )
    home = (region or current_region()).upper()
    form = phonenumbers.PhoneNumberFormat.NATIONAL if country == home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, form)
