"""Tracked links: each URL of a campaign body becomes PUBLIC_BASE_URL/t/<code>, one code per recipient and link.

A code is the message id and the link's position, in base 62, followed by a keyed tag: short enough to save
segments, and not enumerable, since a guessed code fails the tag check. No row is written per link: the code says
which message and which URL of its campaign it stands for.
"""

import hashlib
import hmac
import re
import string

from django.conf import settings

ALPHABET = string.digits + string.ascii_letters
TAG_LENGTH = 5  # 62^5: about 916 million guesses per message
URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the URL: "see https://x.com/deal."
TRAILING = ".,!?;:)]}'\""
# A closing bracket ends the URL only when the URL did not open it: "(see https://x.com/a)" but
# "https://en.wikipedia.org/wiki/Pizza_(disambiguation)".
OPENING = {")": "(", "]": "[", "}": "{"}
# For measuring a body before any message exists: an id of six base-62 digits covers 56 billion messages.
SAMPLE_MESSAGE_ID = 62**5


def _b62(number: int) -> str:
    if number == 0:
        return ALPHABET[0]
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _from_b62(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + ALPHABET.index(char)
    return value


def _tag(payload: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"link:{payload}".encode(), hashlib.sha256).digest()
    return _b62(int.from_bytes(digest[:8], "big"))[-TAG_LENGTH:].rjust(TAG_LENGTH, "0")


def _trim(url: str) -> str:
    while url and url[-1] in TRAILING:
        last = url[-1]
        if last in OPENING and url.count(last) <= url.count(OPENING[last]):
            break
        url = url[:-1]
    return url


def find_urls(body: str) -> list[str]:
    """The URLs in a body, in order, without sentence punctuation stuck to their end."""
    return [_trim(match) for match in URL.findall(body or "")]


def link_code(message_id: int, index: int) -> str:
    if not 0 <= index < 62:
        raise ValueError("a message can carry at most 62 tracked links")
    payload = _b62(message_id) + ALPHABET[index]
    return payload + _tag(payload)


def parse_code(code: str) -> tuple[int, int] | None:
    """(message id, link index) for a genuine code, None for anything else."""
    if not isinstance(code, str) or len(code) < TAG_LENGTH + 2 or any(c not in ALPHABET for c in code):
        return None
    payload, tag = code[:-TAG_LENGTH], code[-TAG_LENGTH:]
    if not hmac.compare_digest(tag, _tag(payload)):
        return None
    return _from_b62(payload[:-1]), ALPHABET.index(payload[-1])


def link_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/t/{code}"


def tracked_body(body: str, message_id: int) -> str:
    """`body` with its n-th URL replaced by this message's n-th tracked link."""
    urls = find_urls(body)
    out, position = [], 0
    for index, url in enumerate(urls):
        start = body.index(url, position)
        out.append(body[position:start])
        out.append(link_url(link_code(message_id, index)))
        position = start + len(url)
    out.append(body[position:])
    return "".join(out)


def sample_tracked_body(body: str) -> str:
    """What a recipient's body will look like, at the longest code length in practice: for billing estimates."""
    return tracked_body(body, SAMPLE_MESSAGE_ID)
