"""The texts the product sends on a consumer's behalf, and the checks that a business's own confirmation or HELP reply
keeps the disclosures carriers and the TCPA require."""

import re

FREQUENCY = "Msg frequency varies."
RATES = "Msg & data rates may apply."
# Two 160-character segments: room for every disclosure and a few words of the business's own.
MAX_HELP_LENGTH = 320

FREQUENCY_PATTERN = re.compile(r"\b(?:msg|message)s?\s+(?:freq(?:uency)?\.?)\s+varies\b", re.I)
RATES_PATTERN = re.compile(r"\b(?:msg|message)s?\s*(?:&|and)\s*data\s+rates\s+may\s+apply\b", re.I)
HELP_PATTERN = re.compile(r"\bHELP\b")
STOP_PATTERN = re.compile(r"\bSTOP\b")

REQUIRED_CONFIRMATION_ELEMENTS = [
    # (what, pattern, how to fix)
    ("frequency", FREQUENCY_PATTERN, f'"{FREQUENCY}"'),
    ("rates", RATES_PATTERN, f'"{RATES}"'),
    ("help", HELP_PATTERN, '"Reply HELP for help"'),
    ("stop", STOP_PATTERN, '"STOP to cancel"'),
]

# A HELP reply answers HELP itself, so it need not point to it; the rest are the confirmation's own rules.
REQUIRED_HELP_ELEMENTS = [element for element in REQUIRED_CONFIRMATION_ELEMENTS if element[0] != "help"]

# When the business has given no contact in Settings, any phone number, email or web address will do. Written to
# mean the same in Python and in the browser's JavaScript, which runs it for the live checklist.
ANY_CONTACT_PATTERN = re.compile(
    r"\+?\d[\d\s().-]{5,}\d"
    r"|[^\s@]+@[^\s@]+\.[a-z]{2,}"
    r"|\b(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]+\.(?:com|net|org|biz|info|io|co|us|shop|store|app)\b",
    re.I,
)
_PHONE_LIKE = re.compile(r"^[\d\s().+-]+$")


def _contact(business):
    return business.support_contact or business.phone or ""


def _contact_alternative(value: str) -> str:
    """A pattern that finds `value` in a text however it is written: a phone number with any spacing or punctuation,
    a web address with or without its https:// and www."""
    digits = re.sub(r"\D", "", value)
    if _PHONE_LIKE.match(value) and len(digits) >= 7:
        # The last ten digits: "+1 (415) 555-0100" and "415.555.0100" are the same number to a reader.
        return r"[\s().-]*".join(digits[-10:])
    literal = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.strip(), flags=re.I).rstrip("/")
    return re.escape(literal or value.strip())


def own_contacts(business) -> list[str]:
    """The ways to reach the business that it gave in Settings."""
    return [value.strip() for value in (business.support_contact, business.phone) if value and value.strip()]


def help_contact_pattern(business) -> re.Pattern:
    """What counts as a way to reach the business in a HELP reply: its own support contact or phone from Settings
    when it has one, else any phone number, email or web address."""
    own = own_contacts(business)
    if not own:
        return ANY_CONTACT_PATTERN
    return re.compile("|".join(_contact_alternative(value) for value in own), re.I)


def opt_in_confirmation(business, custom_text=""):
    if custom_text:
        return custom_text
    return f"{business.name}: You're subscribed to alerts. {FREQUENCY} {RATES} Reply HELP for help, STOP to cancel."


def opt_out_confirmation(business):
    return f"You're unsubscribed from {business.name}. No more messages. Reply START to resubscribe."


def standard_help_reply(business):
    contact = _contact(business)
    reach = f" Contact: {contact}." if contact else ""
    return f"{business.name}:{reach} {FREQUENCY} {RATES} Reply STOP to cancel."


def help_reply(business):
    return business.help_text or standard_help_reply(business)


def standard_help_reply_gives_contact(business) -> bool:
    """Whether the standard HELP reply can say how to reach the business: it has a support contact or phone."""
    return bool(_contact(business).strip())


def help_reply_gives_contact(business) -> bool:
    """Whether the reply people get when they text HELP says how to reach the business, as carriers require."""
    return bool(help_contact_pattern(business).search(help_reply(business)))


def _names_business(text: str, name: str) -> bool:
    return name.casefold() in text.casefold()


def confirmation_problems(text, *, business_name) -> list[str]:
    """What a custom opt-in confirmation is missing, each as an instruction; empty when it is compliant."""
    problems = []
    if not _names_business(text, business_name):
        problems.append(f'name the business ("{business_name}")')
    for _what, pattern, fix in REQUIRED_CONFIRMATION_ELEMENTS:
        if not pattern.search(text):
            problems.append(f"include {fix}")
    return problems


def help_text_problems(text, *, business) -> list[str]:
    """What a custom HELP reply is missing, each as an instruction; empty when it is compliant."""
    problems = []
    if not _names_business(text, business.name):
        problems.append(f'name the business ("{business.name}")')
    if not help_contact_pattern(business).search(text):
        own = own_contacts(business)
        if own:
            problems.append("give a way to reach you: " + " or ".join(f'"{value}"' for value in own))
        else:
            problems.append("give a way to reach you: a phone number, email or web address")
    for _what, pattern, fix in REQUIRED_HELP_ELEMENTS:
        if not pattern.search(text):
            problems.append(f"include {fix}")
    if len(text) > MAX_HELP_LENGTH:
        problems.append(
            f"be at most {MAX_HELP_LENGTH} characters, two texts' worth, which is plenty for a HELP reply "
            f"(it has {len(text)})"
        )
    return problems
