"""The checks a campaign body must pass before it goes out, the same for hand-written and suggested drafts.

Pure functions over text and the business's name: the composer, the drafting service and the launch all share them.
"""

import re
from dataclasses import dataclass, field

from messaging import segments

OPT_OUT_TEXT = "Reply STOP to opt out"
# The opt-out must close the text: after it, at most a short tail such as ", HELP for help. Msg&data rates may apply".
OPT_OUT_TAIL = 60
_OPT_OUT = re.compile(
    r"\b(?:reply|text|txt|send|respond)(?:\s+with)?\s+[\"'\u2018\u2019\u201c\u201d]?stop\b"
    r"|\bstop\s+to\s+(?:opt[\s-]?out|unsubscribe|cancel|end|quit|stop)\b",
    re.IGNORECASE,
)

# Public shorteners: carriers block texts that carry them, since anyone can hide a destination behind one.
# The service's own tracked links are the way to shorten.
URL_SHORTENERS = (
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
    "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "bl.ink", "s.id", "v.gd", "lnkd.in", "adf.ly", "shorte.st",
    "soo.gd", "clck.ru", "qr.ae", "tr.im", "x.co", "po.st", "mcaf.ee", "su.pr", "short.io", "urlz.fr",
)  # fmt: skip
_SHORTENER = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?(" + "|".join(re.escape(d) for d in URL_SHORTENERS) + r")(?![\w-]|\.\w)",
    re.IGNORECASE,
)

# SHAFT-C: content carriers filter unless the sender is registered for it. Flagged for the business to decide,
# never blocked: a wine bar may well be registered to send about wine.
SHAFT = {
    "sex": ("sex", "sexy", "porn", "porno", "xxx", "nude", "nudes", "escort", "escorts", "erotic", "adult content"),
    "hate": ("hate", "racist", "nazi", "white power", "supremacy"),
    "alcohol": (
        "alcohol", "beer", "beers", "wine", "wines", "vodka", "whiskey", "whisky", "tequila", "rum", "gin",
        "liquor", "booze", "cocktail", "cocktails", "margarita", "margaritas", "sangria", "champagne", "mimosa",
        "mimosas", "happy hour", "brewery", "ipa",
    ),
    "firearms": (
        "gun", "guns", "firearm", "firearms", "rifle", "rifles", "pistol", "pistols", "handgun", "handguns",
        "shotgun", "shotguns", "ammo", "ammunition", "ar-15",
    ),
    "tobacco": (
        "tobacco", "cigarette", "cigarettes", "cigar", "cigars", "vape", "vapes", "vaping", "e-cig", "e-cigs",
        "nicotine", "hookah", "juul",
    ),
    "cannabis": ("cannabis", "marijuana", "weed", "thc", "cbd", "dispensary"),
}  # fmt: skip
_SHAFT = {
    topic: re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.IGNORECASE)
    for topic, words in SHAFT.items()
}
SHAFT_LABELS = {
    "sex": "sexual content",
    "hate": "hateful content",
    "alcohol": "alcohol",
    "firearms": "firearms",
    "tobacco": "tobacco or vaping",
    "cannabis": "cannabis",
}

# Typographic characters with a plain GSM-7 twin. One of them is enough to send the whole text as UCS-2, which
# more than halves the characters per segment.
GSM_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}  # fmt: skip
_LEGAL_SUFFIX = re.compile(r"[\s,]+(?:llc|l\.l\.c\.|inc|inc\.|ltd|ltd\.|co|co\.|corp|corp\.)$", re.IGNORECASE)


@dataclass(frozen=True)
class Issue:
    code: str  # stable, for programs: "business-name", "opt-out", "shortener", "too-long", "shaft-alcohol", ...
    message: str  # for the business owner


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[Issue, ...]  # blocking: the text may not be sent as it is
    flags: tuple[Issue, ...]  # content carriers may filter: the business decides
    notes: tuple[str, ...]  # advice that costs nothing to follow, e.g. a curly quote that makes it UCS-2
    measurement: segments.Measurement

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "problems": [{"code": i.code, "message": i.message} for i in self.problems],
            "flags": [{"code": i.code, "message": i.message} for i in self.flags],
            "notes": list(self.notes),
            "segments": self.measurement.segments,
            "encoding": self.measurement.encoding,
        }


@dataclass(frozen=True)
class Repair:
    body: str
    replaced: tuple[tuple[str, str], ...] = field(default=())  # (typographic character, its plain twin), in order

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(f"replaced {old!r} with {new!r}" if new else f"removed {old!r}" for old, new in self.replaced)


def _normal(text: str) -> str:
    text = "".join(GSM_REPLACEMENTS.get(char, char) for char in text)
    return " ".join(text.casefold().split())


def names_business(body: str, business_name: str) -> bool:
    """Whether the body carries the business's name (any case and quote style; "LLC", "Inc." and the like optional)."""
    name = _normal(business_name)
    if not name:
        return True
    short = _LEGAL_SUFFIX.sub("", name).strip()
    text = _normal(body)
    return name in text or (bool(short) and short in text)


def ends_with_opt_out(body: str) -> bool:
    matches = list(_OPT_OUT.finditer(body))
    if not matches:
        return False
    tail = body[matches[-1].end() :].strip()
    return len(tail) <= OPT_OUT_TAIL and "\n" not in tail


def shorteners_in(body: str) -> list[str]:
    return list(dict.fromkeys(match.group(1).lower() for match in _SHORTENER.finditer(body)))


def shaft_flags(body: str) -> list[Issue]:
    flags = []
    for topic, pattern in _SHAFT.items():
        words = list(dict.fromkeys(m.group(1).lower() for m in pattern.finditer(body)))
        if words:
            quoted = ", ".join(f"“{w}”" for w in words)
            flags.append(
                Issue(
                    f"shaft-{topic}",
                    f"Mentions {SHAFT_LABELS[topic]} ({quoted}). Carriers often filter such texts unless your number "
                    "is registered for it; keep it only if that is what you mean to send.",
                )
            )
    return flags


def body_check(*, body: str, business, max_segments: int | None = None, media_urls=()) -> CheckResult:
    """Everything that would stop `body` going out for `business`, and what the business should look at."""
    problems = []
    if not names_business(body, business.name):
        problems.append(Issue("business-name", f"Say who is texting: include your business name, “{business.name}”."))
    if not ends_with_opt_out(body):
        problems.append(Issue("opt-out", f"End the text with how to stop, such as “{OPT_OUT_TEXT}”."))
    for domain in shorteners_in(body):
        problems.append(
            Issue(
                "shortener",
                f"Carriers block texts with {domain} links. Put the full web address instead; "
                "with “Count clicks on links” on, it becomes one of our own short links.",
            )
        )
    measurement = segments.measure(body, media_urls=media_urls)
    if max_segments is not None and not measurement.mms and measurement.segments > max_segments:
        problems.append(
            Issue(
                "too-long",
                f"This is {measurement.segments} segments; keep it to {max_segments} "
                f"({'160' if measurement.encoding == segments.GSM_7 else '70'} characters for one).",
            )
        )
    notes = []
    replaceable = [char for char in measurement.non_gsm if char in GSM_REPLACEMENTS]
    if replaceable and len(replaceable) == len(measurement.non_gsm):
        shown = ", ".join(repr(char) for char in replaceable)
        notes.append(
            f"Only {shown} makes this a UCS-2 text (70 characters a segment instead of 160): use plain quotes, "
            "dashes and dots instead."
        )
    return CheckResult(tuple(problems), tuple(shaft_flags(body)), tuple(notes), measurement)


def body_repair(body: str) -> Repair:
    """Replace typographic quotes, dashes, ellipses and odd spaces with their GSM-7 twins, saying what changed."""
    replaced = list(dict.fromkeys((char, GSM_REPLACEMENTS[char]) for char in body if char in GSM_REPLACEMENTS))
    if not replaced:
        return Repair(body)
    return Repair("".join(GSM_REPLACEMENTS.get(char, char) for char in body), tuple(replaced))
