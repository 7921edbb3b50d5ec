"""Quiet hours, table-driven on frozen UTC instants: which zones and window a number gets, and when a text may go."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

from nextalerts.quiet_hours import (
    MAX_PROFILE_LENGTH,
    is_quiet,
    next_send_time,
    profile_for,
    window_for_profile,
)

BUSINESS_TZ = "America/Chicago"

NEW_YORK = "+12125550123"
CALIFORNIA = "+14155550123"
GEORGIA = "+14045550123"
FLORIDA = "+13055550123"
OKLAHOMA = "+14055550123"
MARYLAND = "+13015550123"
ORLANDO_OVERLAY = "+16895550123"  # 689: phonenumbers says Central, Orlando is Eastern
PANHANDLE_OVERLAY = "+14485550123"  # 448: overlays 850, which is part Eastern, part Central
IDAHO = "+12085550123"  # phonenumbers: America/Boise (Mountain) or America/Los_Angeles
UK_MOBILE = "+447911123456"
INMARSAT = "+870773111632"  # valid, but phonenumbers has no zone for it
JAMAICA = "+18762101234"  # phonenumbers gives the whole of country code 1: Guam to Newfoundland
RUSSIA_MOBILE = "+79123456789"  # sixteen zones, too many for a profile
URUGUAY_FLORIDA = "+59843521234"  # the geocoder says "Florida": the department of Florida, Uruguay

ALL_NUMBERS = [
    NEW_YORK,
    CALIFORNIA,
    GEORGIA,
    FLORIDA,
    OKLAHOMA,
    MARYLAND,
    ORLANDO_OVERLAY,
    PANHANDLE_OVERLAY,
    IDAHO,
    UK_MOBILE,
    INMARSAT,
    JAMAICA,
    RUSSIA_MOBILE,
    URUGUAY_FLORIDA,
]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("e164", ALL_NUMBERS)
def test_example_numbers_are_valid(e164):
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164))


PROFILES = [
    (NEW_YORK, "8-21@America/New_York"),
    (CALIFORNIA, "8-21@America/Los_Angeles"),
    (GEORGIA, "8-21@America/New_York"),
    (FLORIDA, "8-20@America/New_York"),
    (OKLAHOMA, "8-20@America/Chicago"),
    (MARYLAND, "8-20@America/New_York"),
    (ORLANDO_OVERLAY, "8-20@America/New_York"),
    (PANHANDLE_OVERLAY, "8-20@America/Chicago,America/New_York"),
    ("+18502345678", "8-20@America/Chicago"),  # 850-234, Panama City Beach: phonenumbers knows the exchange
    (IDAHO, "8-21@America/Boise,America/Los_Angeles"),
    (UK_MOBILE, "8-21@Europe/Guernsey,Europe/Isle_of_Man,Europe/Jersey,Europe/London"),
    (INMARSAT, "8-21@America/Chicago"),  # no zone data: the business's zone
    (JAMAICA, "8-21@America/Chicago"),  # Guam to Newfoundland: too far apart to share a day
    (RUSSIA_MOBILE, "8-21@America/Chicago"),  # the sixteen zones would not fit in 200 characters
    (URUGUAY_FLORIDA, "8-21@America/Montevideo"),  # not the state of Florida
]


@pytest.mark.parametrize(("e164", "expected"), PROFILES)
def test_profile_for_derives_window_and_zones_from_the_number(e164, expected):
    assert profile_for(e164, fallback_tz=BUSINESS_TZ) == expected


@pytest.mark.parametrize("e164", ALL_NUMBERS)
def test_profile_is_stable_short_and_round_trips(e164):
    key = profile_for(e164, fallback_tz=BUSINESS_TZ)

    assert profile_for(e164, fallback_tz=BUSINESS_TZ) == key
    assert len(key) <= MAX_PROFILE_LENGTH == 200
    start, end, zones = window_for_profile(key)
    assert key == f"{start}-{end}@{','.join(zones)}"
    assert list(zones) == sorted(set(zones))


@pytest.mark.parametrize("e164", [INMARSAT, JAMAICA, RUSSIA_MOBILE])
def test_numbers_without_usable_zones_take_the_business_zone(e164):
    assert profile_for(e164, fallback_tz="Europe/Berlin") == "8-21@Europe/Berlin"


def test_the_fallback_keeps_a_strict_states_window(monkeypatch):
    monkeypatch.setattr(phone_timezone, "time_zones_for_number", lambda number: ("Etc/Unknown",))

    assert profile_for(FLORIDA, fallback_tz=BUSINESS_TZ) == "8-20@America/Chicago"


# What phonenumbers might answer for a number, and the profile that follows.
ZONE_ANSWERS = [
    (("Europe/London", "Europe/Jersey", "Europe/London"), "8-21@Europe/Jersey,Europe/London"),  # sorted, no repeats
    (("Etc/Unknown", "America/Denver"), "8-21@America/Denver"),
    (("Mars/Olympus_Mons", "America/Denver"), "8-21@America/Denver"),  # not in this system's tz database
    (("Etc/Unknown",), "8-21@America/Chicago"),
    ((), "8-21@America/Chicago"),
    (("America/New_York", "America/Los_Angeles"), "8-21@America/Los_Angeles,America/New_York"),
    (("America/St_Johns", "Pacific/Honolulu"), "8-21@America/St_Johns,Pacific/Honolulu"),  # 6:30 to 7:30 apart
    (("Etc/GMT+6", "Etc/GMT-6"), "8-21@Etc/GMT+6,Etc/GMT-6"),  # 12 hours apart: the window shares one hour
    (("Etc/GMT+7", "Etc/GMT-6"), "8-21@America/Chicago"),  # 13 hours apart: too far to share a day
    (("Asia/Tokyo", "America/New_York"), "8-21@America/Chicago"),
    (("Pacific/Guam", "Pacific/Pago_Pago"), "8-21@America/Chicago"),  # the ends of country code 1's list
    (("Europe/Moscow", "Asia/Vladivostok"), "8-21@Asia/Vladivostok,Europe/Moscow"),  # 7 hours apart, but close
]


@pytest.mark.parametrize(("zones", "expected"), ZONE_ANSWERS)
def test_profile_for_keeps_only_usable_zones(monkeypatch, zones, expected):
    monkeypatch.setattr(phone_timezone, "time_zones_for_number", lambda number: zones)

    assert profile_for(NEW_YORK, fallback_tz=BUSINESS_TZ) == expected


def test_wide_and_long_zone_lists_come_from_phonenumbers():
    """Guards the fallback cases above: they test the fallback only while phonenumbers answers like this."""
    jamaica = phone_timezone.time_zones_for_number(phonenumbers.parse(JAMAICA))
    russia = phone_timezone.time_zones_for_number(phonenumbers.parse(RUSSIA_MOBILE))
    inmarsat = phone_timezone.time_zones_for_number(phonenumbers.parse(INMARSAT))

    assert {"Pacific/Guam", "America/St_Johns"} <= set(jamaica)
    assert len(",".join(russia)) > MAX_PROFILE_LENGTH
    assert inmarsat == ("Etc/Unknown",)


def test_zone_overrides_are_still_needed():
    """When phonenumbers puts 689 in Eastern time and 448 in both, drop them from _AREA_CODE_ZONES."""
    assert phone_timezone.time_zones_for_number(phonenumbers.parse(ORLANDO_OVERLAY)) == ("America/Chicago",)
    assert phone_timezone.time_zones_for_number(phonenumbers.parse(PANHANDLE_OVERLAY)) == ("America/New_York",)


# What the geocoder might say about a Georgia (404) number: the state alone, or "City, ST".
GEOCODER_DESCRIPTIONS = [
    ("Georgia", "8-21@America/New_York"),
    ("Atlanta, GA", "8-21@America/New_York"),
    ("", "8-21@America/New_York"),
    ("Florida", "8-20@America/New_York"),
    ("Miami, FL", "8-20@America/New_York"),
    ("Pensacola, Florida", "8-20@America/New_York"),
    ("Oklahoma City, OK", "8-20@America/New_York"),
    ("maryland", "8-20@America/New_York"),
    ("Maryland Heights, MO", "8-21@America/New_York"),  # Missouri, despite the name
]


@pytest.mark.parametrize(("description", "expected"), GEOCODER_DESCRIPTIONS)
def test_a_strict_state_named_by_the_geocoder_is_enough(monkeypatch, description, expected):
    monkeypatch.setattr(geocoder, "description_for_number", lambda number, lang: description)

    assert profile_for(GEORGIA, fallback_tz=BUSINESS_TZ) == expected


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        (FLORIDA, "8-20@America/New_York"),
        (OKLAHOMA, "8-20@America/Chicago"),
        (MARYLAND, "8-20@America/New_York"),
        ("+13242345678", "8-20@America/New_York"),  # Jacksonville's 2023 overlay
        ("+15722345678", "8-20@America/Chicago"),  # Oklahoma City's overlay
        ("+12272345678", "8-20@America/New_York"),  # Maryland's overlay
    ],
)
def test_a_strict_states_area_code_is_enough_without_the_geocoder(monkeypatch, e164, expected):
    monkeypatch.setattr(geocoder, "description_for_number", lambda number, lang: "")

    assert profile_for(e164, fallback_tz=BUSINESS_TZ) == expected


# (number, now, next send time or None when it may go now). June 2025: New York and Florida UTC-4, Oklahoma and
# Chicago UTC-5, Boise UTC-6, California UTC-7, London UTC+1.
SEND_TIMES = [
    # New York
    (NEW_YORK, utc(2025, 6, 10, 16, 0), None),  # 12:00 local
    (NEW_YORK, utc(2025, 6, 10, 11, 59), utc(2025, 6, 10, 12, 0)),  # 07:59 waits for 08:00 the same day
    (NEW_YORK, utc(2025, 6, 10, 11, 59, 59, 999999), utc(2025, 6, 10, 12, 0)),
    (NEW_YORK, utc(2025, 6, 10, 12, 0), None),  # 08:00 exactly
    (NEW_YORK, utc(2025, 6, 11, 0, 30), None),  # 20:30
    (NEW_YORK, utc(2025, 6, 11, 0, 59, 59), None),  # 20:59:59
    (NEW_YORK, utc(2025, 6, 11, 1, 0), utc(2025, 6, 11, 12, 0)),  # 21:00 waits for the next morning
    (NEW_YORK, utc(2025, 6, 11, 3, 30), utc(2025, 6, 11, 12, 0)),  # 23:30
    (NEW_YORK, utc(2025, 6, 11, 4, 30), utc(2025, 6, 11, 12, 0)),  # 00:30, already the next day
    # California: the same instants, another answer
    (CALIFORNIA, utc(2025, 6, 10, 16, 0), None),  # 09:00 local
    (CALIFORNIA, utc(2025, 6, 10, 11, 59), utc(2025, 6, 10, 15, 0)),  # 04:59
    (CALIFORNIA, utc(2025, 6, 11, 1, 0), None),  # 18:00, while New York is quiet
    (CALIFORNIA, utc(2025, 6, 11, 4, 0), utc(2025, 6, 11, 15, 0)),  # 21:00
    # 20:30 local: quiet in Florida, Oklahoma and Maryland, not in Georgia
    (FLORIDA, utc(2025, 6, 11, 0, 30), utc(2025, 6, 11, 12, 0)),
    (OKLAHOMA, utc(2025, 6, 11, 1, 30), utc(2025, 6, 11, 13, 0)),
    (MARYLAND, utc(2025, 6, 11, 0, 30), utc(2025, 6, 11, 12, 0)),
    (GEORGIA, utc(2025, 6, 11, 0, 30), None),
    (ORLANDO_OVERLAY, utc(2025, 6, 11, 0, 30), utc(2025, 6, 11, 12, 0)),  # 19:30 in Chicago, 20:30 in Orlando
    # the strict states' boundaries
    (FLORIDA, utc(2025, 6, 10, 12, 0), None),  # 08:00
    (FLORIDA, utc(2025, 6, 10, 11, 59), utc(2025, 6, 10, 12, 0)),  # 07:59
    (FLORIDA, utc(2025, 6, 10, 23, 59, 59), None),  # 19:59:59
    (FLORIDA, utc(2025, 6, 11, 0, 0), utc(2025, 6, 11, 12, 0)),  # 20:00
    (OKLAHOMA, utc(2025, 6, 11, 0, 59), None),  # 19:59
    (OKLAHOMA, utc(2025, 6, 11, 1, 0), utc(2025, 6, 11, 13, 0)),  # 20:00
    (OKLAHOMA, utc(2025, 6, 10, 12, 0), utc(2025, 6, 10, 13, 0)),  # 07:00, while Florida may send
    # two zones: inside the window in both, or wait
    (IDAHO, utc(2025, 6, 10, 20, 0), None),  # 14:00 Boise, 13:00 Los Angeles
    (IDAHO, utc(2025, 6, 10, 14, 30), utc(2025, 6, 10, 15, 0)),  # 08:30 Boise, 07:30 Los Angeles
    (IDAHO, utc(2025, 6, 11, 2, 59), None),  # 20:59 Boise, 19:59 Los Angeles
    (IDAHO, utc(2025, 6, 11, 3, 0), utc(2025, 6, 11, 15, 0)),  # 21:00 Boise, 20:00 Los Angeles
    (PANHANDLE_OVERLAY, utc(2025, 6, 10, 12, 30), utc(2025, 6, 10, 13, 0)),  # 08:30 Eastern, 07:30 Central
    (PANHANDLE_OVERLAY, utc(2025, 6, 11, 0, 30), utc(2025, 6, 11, 13, 0)),  # 20:30 Eastern, 19:30 Central
    (PANHANDLE_OVERLAY, utc(2025, 6, 10, 23, 30), None),  # 19:30 Eastern, 18:30 Central
    # the United Kingdom, in summer and winter time
    (UK_MOBILE, utc(2025, 6, 10, 7, 0), None),  # 08:00 BST, 03:00 in New York
    (UK_MOBILE, utc(2025, 6, 10, 6, 59), utc(2025, 6, 10, 7, 0)),
    (UK_MOBILE, utc(2025, 6, 10, 20, 0), utc(2025, 6, 11, 7, 0)),  # 21:00 BST
    (UK_MOBILE, utc(2025, 1, 15, 7, 30), utc(2025, 1, 15, 8, 0)),  # 07:30 GMT
    (UK_MOBILE, utc(2025, 1, 15, 20, 30), None),  # 20:30 GMT
    # no zone data: the business's zone, Chicago
    (INMARSAT, utc(2025, 6, 10, 12, 30), utc(2025, 6, 10, 13, 0)),  # 07:30 in Chicago
    (INMARSAT, utc(2025, 6, 10, 13, 30), None),
    # New York's DST days: spring forward at 07:00 UTC on 9 March, fall back at 06:00 UTC on 2 November
    (NEW_YORK, utc(2025, 3, 9, 2, 30), utc(2025, 3, 9, 12, 0)),  # Sat 21:30 EST waits for 08:00 EDT
    (NEW_YORK, utc(2025, 3, 9, 6, 0), utc(2025, 3, 9, 12, 0)),  # 01:00 EST, before the change
    (NEW_YORK, utc(2025, 3, 9, 11, 59), utc(2025, 3, 9, 12, 0)),  # 07:59 EDT
    (NEW_YORK, utc(2025, 3, 9, 12, 30), None),  # 08:30 EDT; 07:30 on yesterday's offset
    (NEW_YORK, utc(2025, 3, 10, 0, 59), None),  # 20:59 EDT
    (NEW_YORK, utc(2025, 3, 10, 1, 0), utc(2025, 3, 10, 12, 0)),  # 21:00 EDT
    (NEW_YORK, utc(2025, 11, 2, 0, 30), None),  # Sat 20:30 EDT
    (NEW_YORK, utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 13, 0)),  # the first 01:30 (EDT) waits for 08:00 EST
    (NEW_YORK, utc(2025, 11, 2, 6, 30), utc(2025, 11, 2, 13, 0)),  # the second 01:30 (EST)
    (NEW_YORK, utc(2025, 11, 2, 12, 30), utc(2025, 11, 2, 13, 0)),  # 07:30 EST; 08:30 on yesterday's offset
    (NEW_YORK, utc(2025, 11, 3, 1, 30), None),  # 20:30 EST
    (NEW_YORK, utc(2025, 11, 3, 2, 0), utc(2025, 11, 3, 13, 0)),  # 21:00 EST
]


@pytest.mark.parametrize(("e164", "now", "expected"), SEND_TIMES)
def test_next_send_time_and_is_quiet(e164, now, expected):
    key = profile_for(e164, fallback_tz=BUSINESS_TZ)

    assert next_send_time(key, now) == expected
    assert is_quiet(key, now) is (expected is not None)
    if expected is not None:
        assert is_quiet(key, expected) is False


@pytest.mark.parametrize(("e164", "now", "expected"), [case for case in SEND_TIMES if case[2] is not None])
def test_next_send_time_is_aware_utc_whatever_the_zone_of_now(e164, now, expected):
    key = profile_for(e164, fallback_tz=BUSINESS_TZ)

    for given in (now, now.astimezone(ZoneInfo("Asia/Tokyo")), now.astimezone(ZoneInfo("America/Los_Angeles"))):
        result = next_send_time(key, given)
        assert result == expected
        assert result.tzinfo is UTC


def _brute_force_next_send_time(key, now):
    """The first quarter hour from `now` at which the key is not quiet; every zone here is on whole hours."""
    moment = now
    while is_quiet(key, moment):
        moment += timedelta(minutes=15)
    return None if moment == now else moment


@pytest.mark.parametrize(
    "e164", [NEW_YORK, CALIFORNIA, FLORIDA, OKLAHOMA, IDAHO, PANHANDLE_OVERLAY, UK_MOBILE, INMARSAT]
)
@pytest.mark.parametrize(
    ("first", "last"),
    [
        (utc(2025, 3, 7), utc(2025, 3, 11)),  # the United States springs forward on 9 March
        (utc(2025, 3, 29), utc(2025, 4, 1)),  # the United Kingdom on 30 March
        (utc(2025, 10, 25), utc(2025, 11, 4)),  # back on 26 October (UK) and 2 November (US)
    ],
)
def test_next_send_time_agrees_with_stepping_through_the_clock(e164, first, last):
    key = profile_for(e164, fallback_tz=BUSINESS_TZ)
    now = first
    while now < last:
        assert next_send_time(key, now) == _brute_force_next_send_time(key, now), now
        now += timedelta(minutes=45)


BAD_PROFILES = [
    "",
    "8-21",
    "8-21@",
    "@America/New_York",
    "21-8@America/New_York",
    "8-8@America/New_York",
    "8-25@America/New_York",
    "8-21@Mars/Olympus_Mons",
    "8-21@America/New_York,",
    "8-21@America/New_York,,Europe/London",
    "a-b@America/New_York",
    " 8-21@America/New_York",
]


@pytest.mark.parametrize("key", BAD_PROFILES)
def test_malformed_profiles_are_refused(key):
    with pytest.raises(ValueError):
        window_for_profile(key)
    with pytest.raises(ValueError):
        is_quiet(key, utc(2025, 6, 10, 16, 0))
    with pytest.raises(ValueError):
        next_send_time(key, utc(2025, 6, 10, 16, 0))


def test_window_for_profile_reads_the_key():
    assert window_for_profile("8-20@America/Chicago,America/New_York") == (
        8,
        20,
        ("America/Chicago", "America/New_York"),
    )


def test_naive_now_is_refused():
    key = profile_for(NEW_YORK, fallback_tz=BUSINESS_TZ)

    with pytest.raises(ValueError):
        is_quiet(key, datetime(2025, 6, 10, 16, 0))
    with pytest.raises(ValueError):
        next_send_time(key, datetime(2025, 6, 10, 16, 0))


def test_a_window_that_never_opens_in_all_zones_is_an_error():
    key = "8-10@Asia/Tokyo,UTC"  # nine hours apart: a two-hour window is never open in both

    assert is_quiet(key, utc(2025, 6, 10, 0, 0)) is True  # 09:00 in Tokyo
    assert is_quiet(key, utc(2025, 6, 10, 9, 0)) is True  # 09:00 in UTC
    with pytest.raises(ValueError):
        next_send_time(key, utc(2025, 6, 10, 0, 0))


@pytest.mark.parametrize("e164", ["", "not a number", "+1"])
def test_unparseable_numbers_are_refused(e164):
    with pytest.raises(ValueError):
        profile_for(e164, fallback_tz=BUSINESS_TZ)


def test_an_unknown_fallback_zone_is_refused():
    with pytest.raises(ValueError):
        profile_for(NEW_YORK, fallback_tz="Mars/Olympus_Mons")


def test_fallback_profile_is_the_default_window_in_the_given_zone():
    from nextalerts.quiet_hours import fallback_profile, profile_or_fallback

    assert fallback_profile("America/Chicago") == "8-21@America/Chicago"
    assert profile_or_fallback("22395", fallback_tz="America/Denver") == "8-21@America/Denver"  # a short code
    assert profile_or_fallback("+12125550143", fallback_tz="America/Denver") == "8-21@America/New_York"
