"""Campaign drafts from the provider (campaigns/ai.py), through the real openai SDK and the fake OpenAI server."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from campaigns import ai
from subscribers.models import Subscriber
from subscribers.services import subscriber_update
from tests.helpers import text_in

CUSTOMERS = [
    ("+12125550143", "Maria Gonzalez", "maria.g@example.com", "Can I get the gluten free crust on Friday?"),
    ("+13105550199", "Dwayne Okafor", "dokafor@example.net", "Please save me a table for six"),
]


def seed_subscribers(tenant):
    for phone, name, email, message in CUSTOMERS:
        text_in(from_number=phone, to_number=tenant.number.phone_number, text=tenant.keyword.keyword)
        text_in(from_number=phone, to_number=tenant.number.phone_number, text=message)
        subscriber = Subscriber.objects.get(business=tenant.business, phone_number=phone)
        subscriber_update(subscriber=subscriber, name=name, email=email, notes=f"Regular; call {phone}")


def write(tenant, brief="20% off pizzas this Friday, families", **kwargs):
    return ai.campaign_drafts_write(business=tenant.business, brief=brief, **kwargs)


# --- What leaves the service ------------------------------------------------------------------------------------------


def test_no_subscriber_data_and_no_phone_number_reaches_the_provider(fake_openai, tenant_a):
    tenant_a.business.category = "pizza shop"
    tenant_a.business.phone = "+12025550123"  # the business's own number is not sent either
    tenant_a.business.save()
    seed_subscribers(tenant_a)
    brief = (
        "20% off pizzas this Friday for families. Call (212) 555-0143 or +1 310 555 0199, or 202.555.0123, "
        "or my cell 555-0188, or +44 7911 123456; email maria.g@example.com or Orders@Tonys-Pizza.co.uk"
    )

    drafts = write(tenant_a, brief=brief, tone="fun +12125550143")

    assert drafts
    (request,) = fake_openai.requests
    raw = request.raw.decode("utf-8")
    sent = json.loads(raw)
    as_text = json.dumps(sent, ensure_ascii=False)
    for phone, name, email, message in CUSTOMERS:
        for secret in (phone, phone[2:], name, name.split()[0], name.split()[1], email, message, message[:20]):
            assert secret not in raw and secret not in as_text, secret
    for leaked in (
        "555-0143",
        "555 0199",
        "555.0123",
        "555-0188",
        "7911",
        "0123",
        "maria.g",
        "Orders@",
        "Tonys-Pizza.co",
    ):
        assert leaked not in as_text, leaked
    # No phone-like run of digits survives, however it is punctuated.
    digits = [re.sub(r"\D", "", run) for run in re.findall(r"[\d()+\-. ]{7,}", as_text)]
    assert not [d for d in digits if len(d) >= 7]
    user = sent["messages"][-1]["content"]
    assert "Business name: Tony's Pizza" in user and "Kind of business: pizza shop" in user
    assert user.count("[phone]") == 6 and user.count("[email]") == 2
    assert "20% off pizzas this Friday for families" in user
    assert sent["model"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 212-555-0143 today", "call [phone] today"),
        ("txt 2125550143", "txt [phone]"),
        ("+1 (212) 555 0143", "[phone]"),
        ("ring 555-0143", "ring [phone]"),
        ("order #98765432", "order #[phone]"),
        ("write to a.b+c@example.com.", "write to [email]."),
        ("20% off, 2 for $15, ends 2026-05-01 at 5pm", "20% off, 2 for $15, ends 2026-05-01 at 5pm"),
        ("Call us @ noon, user@localhost", "Call us @ noon, user@localhost"),  # not an address anyone can use
    ],
)
def test_masking(text, masked):
    assert ai.text_mask(text) == masked


# --- The drafts -------------------------------------------------------------------------------------------------------


def test_drafts_come_back_checked_and_repaired(fake_openai, tenant_a):
    drafts = write(tenant_a, max_segments=1)
    assert 1 <= len(drafts) <= 3
    for draft in drafts:
        assert draft.check.ok and draft.check.measurement.encoding == "GSM-7" and draft.check.measurement.segments == 1
        assert draft.body.startswith(("Tony's Pizza", "Hello from Tony's Pizza", "Great news from Tony's Pizza"))
        assert draft.body.endswith("Reply STOP to opt out")
    # The fake writes one draft with a curly apostrophe and a dash: it is fixed, and the note says so.
    (repaired,) = [d for d in drafts if d.notes]
    assert "\u2019" not in repaired.body and "Don't miss it" in repaired.body
    assert "replaced '’' with \"'\"" in repaired.notes


def test_failing_drafts_are_dropped_never_shown(fake_openai, tenant_a):
    fake_openai.answer_with(
        [
            "Tony's Pizza: order at bit.ly/tonys. Reply STOP to opt out",  # a public shortener: cannot be fixed
            "Tony's Pizza: " + "long " * 80 + "Reply STOP to opt out",  # over the budget
            "Friday: 2 for 1",  # no name, no opt-out: both added
        ]
    )
    drafts = write(tenant_a, max_segments=1)
    assert [d.body for d in drafts] == ["Tony's Pizza: Friday: 2 for 1. Reply STOP to opt out"]
    assert drafts[0].notes == ("added your business name", "added “Reply STOP to opt out”")


def test_an_answer_that_is_not_json_is_read_line_by_line(fake_openai, tenant_a):
    assert ai.drafts_parse("- Tony's Pizza: hi. Reply STOP to opt out\n\n* second") == [
        "Tony's Pizza: hi. Reply STOP to opt out",
        "second",
    ]
    assert ai.drafts_parse('{"drafts": ["a", 3, null, "b", "c", "d"]}') == ["a", "b", "c"]
    assert ai.drafts_parse("") == []


def test_the_tone_and_budget_go_in_the_prompt(fake_openai, tenant_a):
    write(tenant_a, tone="fun", max_segments=2)
    user = fake_openai.completions()[0]["messages"][-1]["content"]
    assert "Tone: fun" in user and "at most 2 SMS segments (306 plain characters)" in user


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"brief": ""}, "brief"),
        ({"brief": "   "}, "brief"),
        ({"brief": "x" * 1001}, "brief"),
        ({"tone": "x" * 61}, "tone"),
        ({"max_segments": 0}, "max_segments"),
        ({"max_segments": 7}, "max_segments"),
        ({"max_segments": "two"}, "max_segments"),
        ({"max_segments": None}, "max_segments"),
    ],
)
def test_bad_input_is_a_validation_error_and_nothing_is_sent(fake_openai, tenant_a, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        write(tenant_a, **kwargs)
    assert field in caught.value.message_dict
    assert fake_openai.requests == []


# --- When the provider cannot help ------------------------------------------------------------------------------------


def test_not_configured_says_so_plainly(settings, tenant_a, fake_openai):
    settings.OPENAI_API_KEY = ""
    with pytest.raises(ai.NotConfigured, match="not set up"):
        write(tenant_a)
    assert fake_openai.requests == []


def test_a_slow_provider_is_a_clear_timeout(fake_openai, tenant_a, settings):
    settings.OPENAI_TIMEOUT = 0.3
    fake_openai.state.latency = 1.0
    with pytest.raises(ai.ProviderUnavailable, match="took too long"):
        write(tenant_a)
    assert len(fake_openai.requests) == 1  # no silent retries while a person waits


def test_a_provider_429_is_a_clear_busy_message(fake_openai, tenant_a):
    fake_openai.fail(status=429, retry_after=20)
    with pytest.raises(ai.ProviderUnavailable, match="busy"):
        write(tenant_a)
    assert len(write(tenant_a)) >= 1  # the next one goes through


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_other_provider_errors_are_clear(fake_openai, tenant_a, status):
    fake_openai.fail(status=status, message="boom", type="server_error")
    with pytest.raises(ai.DraftingError) as caught:
        write(tenant_a)
    assert "write" in caught.value.message and "boom" not in caught.value.message


def test_a_wrong_key_is_a_provider_error(fake_openai, tenant_a, settings):
    settings.OPENAI_API_KEY = "sk-wrong"
    with pytest.raises(ai.ProviderError):
        write(tenant_a)


def test_an_unreachable_provider_is_a_clear_error(settings, tenant_a):
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    with pytest.raises(ai.ProviderUnavailable, match="could not be reached"):
        write(tenant_a)


# --- Rate limit per business ------------------------------------------------------------------------------------------


def test_requests_are_rate_limited_per_business(fake_openai, tenant_a, tenant_b, settings):
    settings.AI_DRAFTS_PER_HOUR = 2
    write(tenant_a)
    write(tenant_a)
    with pytest.raises(ai.RateLimited) as caught:
        write(tenant_a)
    assert "2 times this hour" in caught.value.message and caught.value.retry_after > 0
    assert len(fake_openai.requests) == 2
    assert write(tenant_b)  # another business has its own allowance


def test_a_draft_that_keeps_a_blank_says_to_fill_it_in(fake_openai, tenant_a):
    drafts = write(tenant_a, brief="Call 212-555-0143 for 20% off", max_segments=1)
    assert all("[phone]" in d.body for d in drafts)
    assert all("left [phone] where you typed one: fill it in before sending" in d.notes for d in drafts)
