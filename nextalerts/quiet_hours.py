"""Quiet hours: marketing texts go out only inside the recipient's local sending window, worked out from the number.

At opt-in `profile_for` turns the number into a short key ("8-20@America/New_York") stored on the subscriber; at
send time `is_quiet` and `next_send_time` read only that key. When a number may be in several zones, a message goes
only while it is inside the window in every one of them.
"""

import functools
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

from nextalerts.phones import InvalidPhoneNumber

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = (8, 21)  # start hour inclusive, end hour exclusive: 21:00 is already quiet
STATE_WINDOWS = {"FL": (8, 20), "OK": (8, 20), "MD": (8, 20)}

MAX_PROFILE_LENGTH = 200

# Area codes (NPA) of the states with stricter windows. phonenumbers' geocoder names the state for all of them today,
# but its data changes with each release and new overlays reach it late, so the area code decides as well.
STATE_AREA_CODES = {
    "FL": frozenset(
        "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954".split()
    ),
    "OK": frozenset("405 539 572 580 918".split()),
    "MD": frozenset("227 240 301 410 443 667".split()),
}
_STATE_NAMES = {"florida": "FL", "oklahoma": "OK", "maryland": "MD"}

# Area codes whose zones phonenumbers gets wrong, in the states where an hour's error breaks a state law: it puts
# 689 (Orlando's overlay) in Central time, and 448 (the panhandle's overlay, Eastern and Central) in Eastern only.
_AREA_CODE_ZONES = {
    "689": ("America/New_York",),
    "448": ("America/Chicago", "America/New_York"),
}

_UNKNOWN_ZONE = "Etc/Unknown"
_KEY = re.compile(r"(\d{1,2})-(\d{1,2})@([^,@\s]+(?:,[^,@\s]+)*)")
# Fixed instants (the 1st of each month of one year) at which zones are compared, so a profile never depends on when
# it was made.
_REFERENCE_INSTANTS = tuple(datetime(2025, month, 1, 12, tzinfo=UTC) for month in range(1, 13))
# A window that opens somewhere always opens again within a day or two; DST shifts are the reason to look further.
_SEARCH_DAYS = 8


def profile_for(e164: str, *, fallback_tz: str) -> str:
    """A compact, stable key for where the number is: its window and candidate IANA zones, e.g.
    "8-20@America/New_York" or "8-21@America/Boise,America/Los_Angeles". At most MAX_PROFILE_LENGTH characters.

    When the number says nothing usable about its zone — no zone data, zones too far apart to share a day (the whole
    of country code 1, Guam to Newfoundland, for a Caribbean number), or too many to fit — `fallback_tz`, the
    business's zone, stands in.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"'{e164}' is not a phone number in E.164 form.") from exc
    _zone(fallback_tz)  # an unknown fallback is a configuration error, even when this number does not need it

    start, end = DEFAULT_WINDOW
    for state in _strict_states(number):
        state_start, state_end = STATE_WINDOWS[state]
        start, end = max(start, state_start), min(end, state_end)

    zones = _candidate_zones(number)
    reason = None
    if not zones:
        reason = "no-zone-data"
    elif not _zones_share_a_day(zones, start, end):
        reason = "zones-too-wide"
    else:
        key = _key(start, end, zones)
        if len(key) > MAX_PROFILE_LENGTH:
            reason = "too-many-zones"
        else:
            return key
    logger.info(
        "campaigns.quiet-hours.fallback-zone",
        extra={"reason": reason, "country_code": number.country_code, "fallback_tz": fallback_tz},
    )
    return _key(start, end, (fallback_tz,))


def fallback_profile(tz: str) -> str:
    """The default window in one zone (the business's), for a subscriber whose number says nothing usable."""
    _zone(tz)
    return _key(*DEFAULT_WINDOW, (tz,))


def profile_or_fallback(e164: str, *, fallback_tz: str) -> str:
    """profile_for(), or the default window in `fallback_tz` for what is not a parseable number (a short code)."""
    try:
        return profile_for(e164, fallback_tz=fallback_tz)
    except InvalidPhoneNumber:
        return fallback_profile(fallback_tz)


@functools.lru_cache(maxsize=1024)
def window_for_profile(key: str) -> tuple[int, int, tuple[str, ...]]:
    """(start hour, end hour, zones) of a key made by `profile_for`; ValueError for anything else."""
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(f"Not a quiet-hours profile: {key!r}")
    start, end = int(match[1]), int(match[2])
    if not 0 <= start < end <= 24:
        raise ValueError(f"Not a quiet-hours window: {start}-{end} in {key!r}")
    zones = tuple(match[3].split(","))
    for name in zones:
        _zone(name)
    return start, end, zones


def is_quiet(key: str, now: datetime) -> bool:
    """True when a marketing text may not go out at `now` (timezone-aware) to a subscriber with this profile."""
    start, end, zones = _compiled(key)
    return not _inside_all(start, end, zones, _aware(now))


def next_send_time(key: str, now: datetime) -> datetime | None:
    """None when `now` is inside the window in every candidate zone; otherwise the earliest aware UTC datetime after
    `now` at which it is (the next morning: a quiet-hours message waits, it is not dropped)."""
    start, end, zones = _compiled(key)
    now = _aware(now)
    if _inside_all(start, end, zones, now):
        return None
    # The window opens in all zones at the moment the last of them opens, so the answer is one of the zones'
    # openings. Building each from a local date and hour lets zoneinfo apply the DST offset of that very day.
    openings = set()
    for zone in zones:
        today = now.astimezone(zone).date()
        for days in range(_SEARCH_DAYS):
            local = datetime.combine(today + timedelta(days=days), time(start), tzinfo=zone)
            openings.add(local.astimezone(UTC))
    for candidate in sorted(openings):
        if candidate > now and _inside_all(start, end, zones, candidate):
            return candidate
    raise ValueError(f"The window of {key!r} never opens in all its zones at once.")


@functools.lru_cache(maxsize=1024)
def _compiled(key: str) -> tuple[int, int, tuple[ZoneInfo, ...]]:
    start, end, names = window_for_profile(key)
    return start, end, tuple(_zone(name) for name in names)


def _inside_all(start: int, end: int, zones: tuple[ZoneInfo, ...], instant: datetime) -> bool:
    return all(start <= instant.astimezone(zone).hour < end for zone in zones)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware.")
    return now


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone: {name!r}") from exc


def _key(start: int, end: int, zones: Iterable[str]) -> str:
    return f"{start}-{end}@{','.join(sorted(set(zones)))}"


def _area_code(number: phonenumbers.PhoneNumber) -> str | None:
    if number.country_code != 1:
        return None
    return phonenumbers.national_significant_number(number)[:3]


def _strict_states(number: phonenumbers.PhoneNumber) -> set[str]:
    """The stricter-window states the number belongs to, by area code or by the geocoder: either is enough."""
    if number.country_code != 1:
        return set()  # the geocoder calls numbers in Uruguay's department of Florida "Florida" too
    npa = _area_code(number)
    states = {state for state, area_codes in STATE_AREA_CODES.items() if npa in area_codes}
    # The geocoder answers "Florida" for some exchanges and "Miami, FL" for others: the state is the last part.
    description = geocoder.description_for_number(number, "en")
    last = description.rsplit(",", 1)[-1].strip()
    state = _STATE_NAMES.get(last.lower()) or (last if last in STATE_WINDOWS else None)
    if state:
        states.add(state)
    return states


def _candidate_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    zones = _AREA_CODE_ZONES.get(_area_code(number)) or phone_timezone.time_zones_for_number(number)
    usable = []
    for name in zones:
        if name == _UNKNOWN_ZONE:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # phonenumbers may name a zone this system's tz database lacks
        usable.append(name)
    return tuple(usable)


def _zones_share_a_day(names: tuple[str, ...], start: int, end: int) -> bool:
    """Whether the zones' UTC offsets stay within the window less an hour of one another all year, so that each day
    the window is open in all of them together for an hour or more."""
    zones = [ZoneInfo(name) for name in names]
    for instant in _REFERENCE_INSTANTS:
        offsets = [instant.astimezone(zone).utcoffset() for zone in zones]
        if max(offsets) - min(offsets) > timedelta(hours=end - start - 1):
            return False
    return True
