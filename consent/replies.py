"""The texts the product sends on a consumer's behalf, and the check that a custom confirmation keeps the
disclosures carriers and the TCPA require."""

import re

FREQUENCY = "Msg frequency varies."
RATES = "Msg & data rates may apply."

REQUIRED_CONFIRMATION_ELEMENTS = [
    # (what, pattern, how to fix)
    ("frequency", re.compile(r"\b(?:msg|message)s?\s+(?:freq(?:uency)?\.?)\s+varies\b", re.I), f'"{FREQUENCY}"'),
    ("rates", re.compile(r"\b(?:msg|message)s?\s*(?:&|and)\s*data\s+rates\s+may\s+apply\b", re.I), f'"{RATES}"'),
    ("help", re.compile(r"\bHELP\b"), '"Reply HELP for help"'),
    ("stop", re.compile(r"\bSTOP\b"), '"STOP to cancel"'),
]


def _contact(business):
    return business.support_contact or business.phone or ""


def opt_in_confirmation(business, custom_text=""):
    if custom_text:
        return custom_text
    return f"{business.name}: You're subscribed to alerts. {FREQUENCY} {RATES} Reply HELP for help, STOP to cancel."


def opt_out_confirmation(business):
    return f"You're unsubscribed from {business.name}. No more messages. Reply START to resubscribe."


def help_reply(business):
    contact = _contact(business)
    reach = f" Contact: {contact}." if contact else ""
    return f"{business.name}:{reach} {FREQUENCY} {RATES} Reply STOP to cancel."


def confirmation_problems(text, *, business_name) -> list[str]:
    """What a custom opt-in confirmation is missing, each as an instruction; empty when it is compliant."""
    problems = []
    if business_name.casefold() not in text.casefold():
        problems.append(f'name the business ("{business_name}")')
    for _what, pattern, fix in REQUIRED_CONFIRMATION_ELEMENTS:
        if not pattern.search(text):
            problems.append(f"include {fix}")
    return problems
