"""How many SMS segments a body costs, counted the way carriers bill it (GSM 03.38 / UCS-2, 3GPP TS 23.038).

Pure functions over text: no database, no provider calls, so the dashboard and the send path can share it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

# The 128-entry default alphabet in code order, minus 0x1B (the escape to the extension table).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape septet, so each costs two septets.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_MULTI = 160, 153  # a multipart segment gives 7 septets to the concatenation header
UCS_SINGLE, UCS_MULTI = 70, 67  # likewise 3 UTF-16 code units


@dataclass(frozen=True)
class Measurement:
    encoding: str  # GSM_7 or UCS_2
    segments: int  # billed SMS segments; 0 for an empty body, 1 for an MMS
    units: int  # septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2
    per_segment: int  # the per-segment limit that applied to the text: 160/153 or 70/67
    non_gsm: tuple[str, ...]  # distinct characters that forced UCS-2, in order of first appearance
    mms: bool  # media attached: one MMS, whatever the text's length

    def describe(self) -> str:
        if self.mms:
            return "MMS (media attached)"
        noun = "segment" if self.segments == 1 else "segments"
        text = f"{self.segments} {noun}, {self.encoding}"
        if self.non_gsm:
            # repr() so invisible culprits (a non-breaking space, a tab) show as escapes instead of blanks.
            text += " because of " + ", ".join(repr(char) for char in self.non_gsm)
        return text


def measure(body: str, *, media_urls: Iterable[str] = ()) -> Measurement:
    """Measure `body` as one SMS, or as an MMS when any media URL is given (the text is still measured)."""
    non_gsm = tuple(dict.fromkeys(char for char in body if char not in GSM_BASIC and char not in GSM_EXTENSION))
    if non_gsm:
        encoding, single, multi = UCS_2, UCS_SINGLE, UCS_MULTI
        costs = [2 if ord(char) > 0xFFFF else 1 for char in body]  # outside the BMP: a surrogate pair
    else:
        encoding, single, multi = GSM_7, GSM_SINGLE, GSM_MULTI
        costs = [2 if char in GSM_EXTENSION else 1 for char in body]

    units = sum(costs)
    if units <= single:
        segments, per_segment = (1 if units else 0), single
    else:
        segments, per_segment = _pack(costs, multi), multi

    mms = bool(tuple(media_urls or ()))
    return Measurement(
        encoding=encoding,
        segments=1 if mms else segments,
        units=units,
        per_segment=per_segment,
        non_gsm=non_gsm,
        mms=mms,
    )


def _pack(costs: list[int], limit: int) -> int:
    # Phones and carriers never split an escape pair or a surrogate pair across segments, so a
    # two-unit character that does not fit in what is left of a segment starts the next one.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > limit:
            segments, used = segments + 1, 0
        used += cost
    return segments
