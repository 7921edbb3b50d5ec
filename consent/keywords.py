"""The keyword grammar: what an inbound text asks for (opt out, opt in, help, join by keyword, or nothing).

Exact keywords are matched after case, surrounding whitespace and punctuation are stripped. Plain-language
revocations ("please stop texting me") are opt-outs as well: the FCC treats any reasonable way of saying no as one,
so when in doubt the grammar errs towards opting out.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"  # START, UNSTOP, YES, SUBSCRIBE
    KEYWORD = "keyword"  # one of the number's business keywords: an opt-in too
    HELP = "help"
    MESSAGE = "message"  # an ordinary message, for the business's inbox


OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "yes", "subscribe"})
HELP_WORDS = frozenset({"help", "info"})

_MESSAGING = r"(?:text(?:s|ing)?|messag(?:e|es|ing)|msgs?|sms|contact(?:ing)?|send(?:ing)?|spam(?:ming)?)"
REVOCATION_PATTERNS = [
    re.compile(p)
    for p in (
        rf"\b(?:stop|quit|cease)\b(?:\s+\w+){{0,2}}?\s+{_MESSAGING}\b",  # "stop texting me", "stop these messages"
        r"\bremove me\b",  # "please remove me", "remove me from this list"
        r"\btake me off\b",
        r"\bunsubscribe\b",
        r"\bopt(?:\s|-)?out\b",
        rf"\bno more\b.*\b{_MESSAGING}\b",  # "no more messages"
        rf"\b(?:do not|dont|don't|never)\b.*\b{_MESSAGING}\b\s+me\b",  # "don't text me", "do not message me again"
        r"\bleave me alone\b",
        r"\bwrong number\b",
    )
]


@dataclass(frozen=True)
class Classification:
    intent: Intent
    keyword: str = ""  # the matched business keyword, in its stored spelling
    qr_ref: str = ""  # "Q7K2" when the text is a QR code's prefilled "JOIN Q7K2"


# The reference a QR code adds to its prefilled text (tracking.models.new_ref): Q and three letters or digits.
QR_REF = re.compile(r"^q[2-9a-z]{3}$")


def normalize(text: str) -> str:
    """Casefold, drop surrounding punctuation and symbols, collapse inner whitespace."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"\s+", " ", text).strip()
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


def classify(text: str, business_keywords: Iterable[str] = ()) -> Classification:
    word = normalize(text)
    if word in OPT_OUT_WORDS:
        return Classification(Intent.OPT_OUT)
    if word in OPT_IN_WORDS:
        return Classification(Intent.OPT_IN)
    if word in HELP_WORDS:
        return Classification(Intent.HELP)
    first, _, rest = word.partition(" ")
    qr_ref = rest.upper() if QR_REF.match(rest) else ""
    for keyword in business_keywords:
        if normalize(keyword) == word:
            return Classification(Intent.KEYWORD, keyword=keyword)
        if qr_ref and normalize(keyword) == first:
            return Classification(Intent.KEYWORD, keyword=keyword, qr_ref=qr_ref)
    if any(pattern.search(word) for pattern in REVOCATION_PATTERNS):
        return Classification(Intent.OPT_OUT)
    return Classification(Intent.MESSAGE)
