"""A business's own HELP reply: the required parts are checked, it is stored by the service, and HELP sends it."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Business
from consent import replies
from consent.models import ConsentEvent
from consent.services import business_help_text_set
from tests.helpers import text_in

CONSUMER = "+12025550143"
NAME = "Tony's Pizza"
GOOD = f"{NAME}: help@tonys.com. Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel."
NAME_PROBLEM = f'name the business ("{NAME}")'
OWN_CONTACT_PROBLEM = 'give a way to reach you: "help@tonys.com" or "+14155550100"'
ANY_CONTACT_PROBLEM = "give a way to reach you: a phone number, email or web address"
FREQUENCY_PROBLEM = 'include "Msg frequency varies."'
RATES_PROBLEM = 'include "Msg & data rates may apply."'
STOP_PROBLEM = 'include "STOP to cancel"'
DISCLOSURES = "Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel."


def _business(**contacts):
    return Business(name=NAME, slug="tonys", **contacts)


WITH_CONTACT = {"support_contact": "help@tonys.com", "phone": "+14155550100"}


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD, []),
        (f"{NAME} here! Call (415) 555-0100. {DISCLOSURES}", []),
        (f"{NAME}: text or call 415.555.0100. {DISCLOSURES}", []),
        ("tony's pizza: HELP@TONYS.COM. msg frequency varies. Message and data rates may apply. STOP to end.", []),
        (f"{NAME}: {DISCLOSURES}", [OWN_CONTACT_PROBLEM]),
        (f"{NAME}: other@example.com. {DISCLOSURES}", [OWN_CONTACT_PROBLEM]),
        (f"Hi! help@tonys.com. {DISCLOSURES}", [NAME_PROBLEM]),
        (f"{NAME}: help@tonys.com. Msg & data rates may apply. Reply STOP to cancel.", [FREQUENCY_PROBLEM]),
        (f"{NAME}: help@tonys.com. Msg frequency varies. Reply STOP to cancel.", [RATES_PROBLEM]),
        (
            f"{NAME}: help@tonys.com. Msg frequency varies. Msg & data rates may apply. Reply stop to cancel.",
            [STOP_PROBLEM],
        ),
        (f"{NAME}: help@tonys.com. Msg frequency varies. Msg & data rates may apply.", [STOP_PROBLEM]),
        ("", [NAME_PROBLEM, OWN_CONTACT_PROBLEM, FREQUENCY_PROBLEM, RATES_PROBLEM, STOP_PROBLEM]),
    ],
)
def test_help_text_problems_with_a_contact_in_settings(text, expected):
    assert replies.help_text_problems(text, business=_business(**WITH_CONTACT)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"{NAME}: call 415-555-0100. {DISCLOSURES}", []),
        (f"{NAME}: +1 415 555 0100. {DISCLOSURES}", []),
        (f"{NAME}: write to hello@tonys.co. {DISCLOSURES}", []),
        (f"{NAME}: see https://tonys.example/help. {DISCLOSURES}", []),
        (f"{NAME}: see www.tonyspizza.example. {DISCLOSURES}", []),
        (f"{NAME}: see tonyspizza.com. {DISCLOSURES}", []),
        (f"{NAME}: ask us in the shop. {DISCLOSURES}", [ANY_CONTACT_PROBLEM]),
        (f"{NAME}: open 9 to 5. {DISCLOSURES}", [ANY_CONTACT_PROBLEM]),
    ],
)
def test_help_text_problems_without_a_contact_in_settings(text, expected):
    assert replies.help_text_problems(text, business=_business()) == expected


def test_a_web_address_contact_counts_without_its_https():
    business = _business(support_contact="https://www.tonys.example/help/")
    assert replies.help_text_problems(f"{NAME}: tonys.example/help. {DISCLOSURES}", business=business) == []


def test_help_text_problems_limits_the_length_and_says_why():
    text = GOOD + " Thanks!" * 40
    [problem] = replies.help_text_problems(text, business=_business(**WITH_CONTACT))
    assert f"at most {replies.MAX_HELP_LENGTH} characters" in problem
    assert "plenty for a HELP reply" in problem and str(len(text)) in problem
    assert (
        replies.help_text_problems(GOOD.ljust(replies.MAX_HELP_LENGTH, "!"), business=_business(**WITH_CONTACT)) == []
    )


def test_help_elements_reuse_the_confirmation_rules():
    confirmation = {what: pattern for what, pattern, _fix in replies.REQUIRED_CONFIRMATION_ELEMENTS}
    help_elements = {what: pattern for what, pattern, _fix in replies.REQUIRED_HELP_ELEMENTS}
    assert help_elements == {what: confirmation[what] for what in ("frequency", "rates", "stop")}


def test_the_standard_reply_passes_its_own_check():
    business = _business(**WITH_CONTACT)
    assert replies.help_text_problems(replies.standard_help_reply(business), business=business) == []


def test_help_reply_is_the_custom_text_when_set():
    business = _business(**WITH_CONTACT)
    assert replies.help_reply(business) == replies.standard_help_reply(business)
    business.help_text = GOOD
    assert replies.help_reply(business) == GOOD


# --- The service ------------------------------------------------------------------------------------------------------


def _custom(tenant):
    return f"{tenant.business.name} HELP: write to {tenant.business.support_contact}. {DISCLOSURES}"


def test_service_stores_the_stripped_text(tenant_a):
    business_help_text_set(business=tenant_a.business, text=f"  {_custom(tenant_a)}\n")
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.help_text == _custom(tenant_a)


@pytest.mark.parametrize("blank", ["", "   \n ", None])
def test_service_blank_goes_back_to_the_standard_reply(tenant_a, blank):
    business_help_text_set(business=tenant_a.business, text=_custom(tenant_a))
    business_help_text_set(business=tenant_a.business, text=blank)
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.help_text == ""


def test_service_keeps_the_standard_reply_following_settings(tenant_a):
    business = tenant_a.business
    business_help_text_set(business=business, text=replies.standard_help_reply(business))
    business.refresh_from_db()
    assert business.help_text == ""


def test_service_refuses_a_text_missing_parts_and_names_them(tenant_a):
    text = f"{tenant_a.business.name}: write to {tenant_a.business.support_contact}. Msg frequency varies."
    with pytest.raises(ValidationError) as caught:
        business_help_text_set(business=tenant_a.business, text=text)
    [message] = caught.value.message_dict["help_text"]
    assert message.startswith("The HELP reply must ")
    assert '"Msg & data rates may apply."' in message and '"STOP to cancel"' in message
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.help_text == ""


# --- End to end ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_sends_the_custom_text(tenant_a, fake_telnyx, word):
    business_help_text_set(business=tenant_a.business, text=_custom(tenant_a))
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text=word)
    [sent] = fake_telnyx.messages()
    assert sent["text"] == _custom(tenant_a) and sent["to"] == CONSUMER
    assert ConsentEvent.objects.get(kind=ConsentEvent.Kind.HELP).evidence["reply_text"] == _custom(tenant_a)


def test_help_sends_the_standard_reply_after_a_reset(tenant_a, fake_telnyx):
    business_help_text_set(business=tenant_a.business, text=_custom(tenant_a))
    business_help_text_set(business=tenant_a.business, text="")
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="HELP")
    [sent] = fake_telnyx.messages()
    assert sent["text"] == replies.standard_help_reply(tenant_a.business)


def test_one_business_custom_reply_is_not_sent_for_another(tenant_a, tenant_b, fake_telnyx):
    business_help_text_set(business=tenant_a.business, text=_custom(tenant_a))
    text_in(from_number=CONSUMER, to_number=tenant_b.number.phone_number, text="HELP")
    [sent] = fake_telnyx.messages()
    assert sent["text"] == replies.standard_help_reply(tenant_b.business)
