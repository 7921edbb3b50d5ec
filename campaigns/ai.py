"""Campaign drafts written by OpenAI from a business's brief, each checked and repaired before anyone sees it.

Only business-side facts leave the service (name, kind of business, the brief, tone, limits); phone numbers and email
addresses typed into them are masked first. No subscriber data is ever read here.
"""

import json
import logging
import re
import time
from dataclasses import dataclass

import openai
import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from . import compliance

logger = logging.getLogger(__name__)

MAX_DRAFTS = 3
MAX_BRIEF = 1000
MAX_TONE = 60
MAX_SEGMENTS = 6
MAX_DRAFT_CHARS = 1600
PHONE_MASK, EMAIL_MASK = "[phone]", "[email]"

# Strict on purpose: a local part and a dotted domain with a letters-only top level, nothing looser.
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,24}(?![\w-])")  # fmt: skip
# A second net under the phone matcher: any run of seven or more digits, however separated, except an ISO date.
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

SYSTEM_PROMPT = (
    "You write SMS marketing texts for a small business in the United States. "
    "Write three different drafts of one text from the brief. Rules for every draft: "
    'include the business name exactly as given; end with "Reply STOP to opt out"; '
    "stay within the segment limit; use plain characters only (straight quotes, no emoji, no dashes other than -); "
    "no link shorteners such as bit.ly; do not invent prices, dates or links that the brief does not give; "
    "never address a person by name. "
    'Answer with JSON only: {"drafts": ["...", "...", "..."]}.'
)


class DraftingError(Exception):
    """A request for drafts that could not be answered; `message` says why, in words for the business owner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotConfigured(DraftingError):
    pass


class RateLimited(DraftingError):
    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(DraftingError):
    """The provider timed out or is busy: worth trying again shortly."""


class ProviderError(DraftingError):
    """The provider refused the request or answered something unusable."""


@dataclass(frozen=True)
class Draft:
    body: str
    check: compliance.CheckResult
    notes: tuple[str, ...]  # what was changed to make it pass, e.g. "replaced '’' with \"'\""

    def as_dict(self) -> dict:
        return {"body": self.body, "notes": list(self.notes), **self.check.as_dict()}


def is_configured() -> bool:
    return bool(settings.OPENAI_API_KEY)


def text_mask(text: str) -> str:
    """`text` with every email address and phone number (any country, any punctuation) replaced by a placeholder."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE)
    spans = [(match.start, match.end) for match in matcher]
    for start, end in reversed(spans):
        text = text[:start] + PHONE_MASK + text[end:]

    def digits(match):
        run = match.group(0)
        if sum(char.isdigit() for char in run) < 7 or _ISO_DATE.fullmatch(run.strip()):
            return run
        return PHONE_MASK

    return _DIGIT_RUN.sub(digits, text)


def prompt_build(*, business, brief: str, tone: str, max_segments: int) -> list[dict]:
    """The chat messages: built from the business's own fields and what its user typed, never from subscriber data."""
    lines = [
        f"Business name: {text_mask(business.name)}",
        f"Kind of business: {text_mask(business.category) or 'not given'}",
        f"Brief: {text_mask(' '.join(brief.split()))}",
        f"Tone: {text_mask(tone) or 'friendly'}",
        f"Limit: at most {max_segments} SMS segment{'s' if max_segments != 1 else ''} "
        f"({160 if max_segments == 1 else 153 * max_segments} plain characters), "
        f'ending with "{compliance.OPT_OUT_TEXT}"',
    ]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def _validate(*, brief: str, tone: str, max_segments) -> tuple[str, str, int]:
    errors = {}
    brief, tone = (brief or "").strip(), (tone or "").strip()
    if not brief:
        errors["brief"] = ["Say what the text is about, such as “20% off pizzas this Friday, for families”."]
    elif len(brief) > MAX_BRIEF:
        errors["brief"] = [f"Keep the description to {MAX_BRIEF} characters or fewer."]
    if len(tone) > MAX_TONE:
        errors["tone"] = [f"Keep the tone to {MAX_TONE} characters or fewer, such as “friendly” or “fun”."]
    try:
        max_segments = int(max_segments)
    except (TypeError, ValueError, OverflowError):
        max_segments = 0
    if not 1 <= max_segments <= MAX_SEGMENTS:
        errors["max_segments"] = [f"Choose between 1 and {MAX_SEGMENTS} segments."]
    if errors:
        raise ValidationError(errors)
    return brief, tone, max_segments


def _rate_limit(business) -> None:
    limit = settings.AI_DRAFTS_PER_HOUR
    now = time.time()
    window = int(now // 3600)
    key = f"campaigns:ai-drafts:{business.pk}:{window}"
    cache.add(key, 0, timeout=3600 + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600 + 60)
        count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * 3600 - now))
        raise RateLimited(
            f"Your business has asked for drafts {limit} time{'' if limit == 1 else 's'} this hour, the most allowed. "
            f"Try again in {max(1, retry_after // 60)} minute{'s' if retry_after >= 120 else ''}.",
            retry_after=retry_after,
        )


def _ask(messages: list[dict]) -> str:
    client = openai.OpenAI(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        timeout=settings.OPENAI_TIMEOUT,
        max_retries=0,  # a person is waiting: one quick failure beats a long silent retry
    )
    try:
        response = client.chat.completions.create(
            model=settings.OPENAI_MODEL,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=0.8,
        )
    except openai.APITimeoutError as exc:
        logger.warning("campaigns.ai.timeout")
        raise ProviderUnavailable("The writing service took too long to answer. Try again in a minute.") from exc
    except openai.RateLimitError as exc:
        logger.warning("campaigns.ai.provider-rate-limited")
        raise ProviderUnavailable("The writing service is busy right now. Try again in a minute.") from exc
    except openai.APIConnectionError as exc:
        logger.warning("campaigns.ai.unreachable")
        raise ProviderUnavailable("The writing service could not be reached. Try again in a minute.") from exc
    except openai.APIStatusError as exc:
        logger.warning("campaigns.ai.provider-error", extra={"status": exc.status_code})
        raise ProviderError(
            "The writing service could not write drafts just now. You can still write the text yourself."
        ) from exc
    except openai.OpenAIError as exc:
        logger.warning("campaigns.ai.error", extra={"error": type(exc).__name__})
        raise ProviderError(
            "The writing service is not working just now. You can still write the text yourself."
        ) from exc
    if not response.choices:
        return ""
    return response.choices[0].message.content or ""


def drafts_parse(content: str) -> list[str]:
    """Up to three draft texts from the provider's answer: the JSON asked for, or failing that, one per line."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        data = None
    if isinstance(data, dict):
        data = data.get("drafts")
    if isinstance(data, list):
        texts = [item for item in data if isinstance(item, str)]
    else:
        texts = [line.strip(" -*\t") for line in (content or "").splitlines()]
    texts = [text.strip()[:MAX_DRAFT_CHARS] for text in texts if text and text.strip()]
    return texts[:MAX_DRAFTS]


def draft_finish(*, text: str, business, max_segments: int) -> Draft | None:
    """`text` made to pass the checks where that can be done without changing what it says; None when it cannot."""
    repair = compliance.body_repair(text)
    body, notes = repair.body, list(repair.notes)
    if not compliance.names_business(body, business.name):
        body = f"{business.name}: {body}"
        notes.append("added your business name")
    if not compliance.ends_with_opt_out(body):
        body = f"{body.rstrip()}{'' if body.rstrip().endswith(('.', '!', '?')) else '.'} {compliance.OPT_OUT_TEXT}"
        notes.append(f"added “{compliance.OPT_OUT_TEXT}”")
    blanks = [mask for mask in (PHONE_MASK, EMAIL_MASK) if mask in body]
    if blanks:
        notes.append(f"left {' and '.join(blanks)} where you typed one: fill it in before sending")
    check = compliance.body_check(body=body, business=business, max_segments=max_segments)
    if not check.ok:
        logger.info("campaigns.ai.draft-dropped", extra={"problems": [p.code for p in check.problems]})
        return None
    return Draft(body=body, check=check, notes=tuple(notes))


def campaign_drafts_write(*, business, brief: str, tone: str = "", max_segments=2) -> list[Draft]:
    """Up to three checked drafts for `business` from `brief`. Raises ValidationError for bad input and a
    DraftingError (NotConfigured, RateLimited, ProviderUnavailable, ProviderError) when no drafts can be had."""
    if not is_configured():
        raise NotConfigured("Writing help is not set up on this service. You can still write the text yourself.")
    brief, tone, max_segments = _validate(brief=brief, tone=tone, max_segments=max_segments)
    _rate_limit(business)
    content = _ask(prompt_build(business=business, brief=brief, tone=tone, max_segments=max_segments))
    drafts = []
    for text in drafts_parse(content):
        draft = draft_finish(text=text, business=business, max_segments=max_segments)
        if draft is not None and all(draft.body != d.body for d in drafts):
            drafts.append(draft)
    return drafts
