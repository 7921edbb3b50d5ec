"""Segment counting, table-driven: the GSM-7 / UCS-2 choice, single and multipart limits, and pairs never split."""

import pytest

from messaging.segments import measure

# GSM 03.38 default alphabet written out row by row (0x00-0x7F), with 0x1B, the escape, left out.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION = "\f^{}\\[~]|€"
# Characters often assumed to be GSM-7 that are not: each alone forces UCS-2.
LOOKALIKES = "áíóúçêÀ`‘’“”–—…\t\xa0"

A_ACUTE = "á"  # a BMP character outside GSM-7: one UTF-16 unit
GRIN = "😀"  # outside the BMP: a surrogate pair, two UTF-16 units

CASES = [
    # (body, encoding, segments, units)
    pytest.param("", "GSM-7", 0, 0, id="empty"),
    pytest.param("a", "GSM-7", 1, 1, id="one-char"),
    pytest.param("a" * 160, "GSM-7", 1, 160, id="gsm-160-fits-one"),
    pytest.param("a" * 161, "GSM-7", 2, 161, id="gsm-161-needs-two"),
    pytest.param("a" * 306, "GSM-7", 2, 306, id="gsm-306-fills-two"),
    pytest.param("a" * 307, "GSM-7", 3, 307, id="gsm-307-needs-three"),
    pytest.param(DEFAULT_ALPHABET, "GSM-7", 1, 127, id="whole-default-alphabet"),
    pytest.param("é" * 160, "GSM-7", 1, 160, id="e-acute-is-gsm"),
    pytest.param("É" * 161, "GSM-7", 2, 161, id="capital-e-acute-is-gsm"),
    pytest.param("Ç", "GSM-7", 1, 1, id="capital-c-cedilla-is-gsm"),
    # an escape pair is never split: 152 + 2 does not fit in 153, so the '€' opens segment two
    pytest.param("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306, id="escape-pair-not-split"),
    pytest.param("a" * 151 + "€" + "a" * 153, "GSM-7", 2, 306, id="escape-pair-fits-exactly"),
    pytest.param("Save 10€ {today}", "GSM-7", 1, 19, id="extension-chars-mixed-in"),
    pytest.param("á", "UCS-2", 1, 1, id="a-acute-forces-ucs2"),
    pytest.param("Merci ç", "UCS-2", 1, 7, id="c-cedilla-forces-ucs2"),
    pytest.param("It’s on", "UCS-2", 1, 7, id="curly-quote-forces-ucs2"),
    pytest.param("á€", "UCS-2", 1, 2, id="euro-costs-one-unit-in-ucs2"),
    pytest.param(A_ACUTE * 70, "UCS-2", 1, 70, id="ucs2-70-fits-one"),
    pytest.param(A_ACUTE * 71, "UCS-2", 2, 71, id="ucs2-71-needs-two"),
    pytest.param(A_ACUTE * 134, "UCS-2", 2, 134, id="ucs2-134-fills-two"),
    pytest.param(A_ACUTE * 135, "UCS-2", 3, 135, id="ucs2-135-needs-three"),
    pytest.param("☺", "UCS-2", 1, 1, id="bmp-emoji-one-unit"),
    pytest.param(GRIN, "UCS-2", 1, 2, id="emoji-two-units"),
    pytest.param(GRIN * 35, "UCS-2", 1, 70, id="35-emoji-fit-one"),
    pytest.param(GRIN * 36, "UCS-2", 2, 72, id="36-emoji-need-two"),
    # a surrogate pair is never split: 66 + 2 does not fit in 67, so the emoji opens segment two
    pytest.param(A_ACUTE * 66 + GRIN + A_ACUTE * 66, "UCS-2", 3, 134, id="surrogate-pair-not-split"),
    pytest.param(A_ACUTE * 65 + GRIN + A_ACUTE * 67, "UCS-2", 2, 134, id="surrogate-pair-fits-exactly"),
]


@pytest.mark.parametrize(("body", "encoding", "segments", "units"), CASES)
def test_measure_counts_encoding_segments_and_units(body, encoding, segments, units):
    result = measure(body)
    assert (result.encoding, result.segments, result.units, result.mms) == (encoding, segments, units, False)


def test_default_alphabet_has_127_characters_besides_the_escape():
    # guards the table above: a dropped or repeated character would make the other tests prove less
    assert len(set(DEFAULT_ALPHABET)) == len(DEFAULT_ALPHABET) == 127


@pytest.mark.parametrize("char", list(DEFAULT_ALPHABET))
def test_each_default_alphabet_character_is_one_septet(char):
    result = measure(char)
    assert (result.encoding, result.units, result.non_gsm) == ("GSM-7", 1, ())


@pytest.mark.parametrize("char", list(EXTENSION))
def test_extension_character_costs_two_septets(char):
    at_limit, over = measure(char * 80), measure(char * 81)
    assert (at_limit.encoding, at_limit.segments, at_limit.units) == ("GSM-7", 1, 160)
    assert (over.encoding, over.segments, over.units) == ("GSM-7", 2, 162)


@pytest.mark.parametrize("char", list(LOOKALIKES))
def test_lookalike_character_forces_ucs2(char):
    result = measure("Hello " + char)
    assert (result.encoding, result.non_gsm) == ("UCS-2", (char,))


@pytest.mark.parametrize(
    ("body", "per_segment"),
    [
        ("", 160),
        ("a" * 160, 160),
        ("a" * 161, 153),
        (A_ACUTE * 70, 70),
        (A_ACUTE * 71, 67),
    ],
)
def test_per_segment_is_the_limit_that_applied(body, per_segment):
    assert measure(body).per_segment == per_segment


def test_non_gsm_lists_each_character_once_in_order_of_first_appearance():
    assert measure("“Hi” ‘there’ “again”").non_gsm == ("“", "”", "‘", "’")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ("", "0 segments, GSM-7"),
        ("Hi", "1 segment, GSM-7"),
        ("a" * 161, "2 segments, GSM-7"),
        ("Voilá", "1 segment, UCS-2 because of 'á'"),
        ("á " + GRIN + " á ç " + GRIN, "1 segment, UCS-2 because of 'á', '😀', 'ç'"),
        ("a" * 140 + "ç" + GRIN, "3 segments, UCS-2 because of 'ç', '😀'"),
        ("10\xa0AM", "1 segment, UCS-2 because of '\\xa0'"),
    ],
)
def test_describe(body, description):
    assert measure(body).describe() == description


@pytest.mark.parametrize(
    ("body", "encoding", "units"),
    [
        ("a" * 500, "GSM-7", 500),
        (GRIN * 100, "UCS-2", 200),
        ("", "GSM-7", 0),
    ],
)
def test_media_makes_one_mms_whatever_the_text(body, encoding, units):
    result = measure(body, media_urls=["https://example.com/flyer.jpg"])
    assert (result.mms, result.segments, result.encoding, result.units) == (True, 1, encoding, units)
    assert result.describe() == "MMS (media attached)"


def test_empty_media_list_is_plain_sms():
    result = measure("a" * 161, media_urls=[])
    assert (result.mms, result.segments) == (False, 2)
