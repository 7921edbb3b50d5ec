"""Numbers and keywords: who may change them, another business's are not found, and the confirmation's required
parts are checked on the server and listed for the live checklist."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscribers.models import Keyword, SenderNumber
from tests.factories import KeywordFactory, SenderNumberFactory

NUMBERS = reverse("dashboard:numbers")
NUMBER_CREATE = reverse("dashboard:number-create")
KEYWORD_CREATE = reverse("dashboard:keyword-create")
GOOD_CONFIRMATION = (
    "Tony's Pizza: you're in! Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to cancel."
)


def url(name, obj):
    return reverse(f"dashboard:{name}", args=[obj.pk])


def test_numbers_page_renders_for_a_member_without_admin_controls(client, tenant_a):
    client.force_login(tenant_a.member.user)
    response = client.get(NUMBERS)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert f"(415) 555-{tenant_a.number.phone_number[-4:]}" in html and "JOIN" in html
    assert "Reply STOP to cancel" in html  # the HELP reply
    assert "Msg frequency varies" in html  # the default confirmation
    assert "Add a number" not in html and url("keyword-edit", tenant_a.keyword) not in html


def test_numbers_page_shows_admin_controls(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    html = client.get(NUMBERS).content.decode()
    assert "Add a number" in html
    assert url("keyword-edit", tenant_a.keyword) in html and url("number-delete", tenant_a.number) in html


def test_numbers_page_shows_only_the_current_business(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member.user)
    html = client.get(NUMBERS).content.decode()
    assert tenant_b.number.phone_number not in html


def _numbers_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(NUMBERS).status_code == 200
    return len(queries)


def test_numbers_page_query_count_does_not_grow_with_rows(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    for _ in range(2):
        KeywordFactory(number=SenderNumberFactory(business=tenant_a.business))
    few = _numbers_queries(client)
    for _ in range(20):
        number = SenderNumberFactory(business=tenant_a.business)
        KeywordFactory(number=number)
        KeywordFactory(number=number, confirmation_text=GOOD_CONFIRMATION)
    assert _numbers_queries(client) == few


# --- Numbers --------------------------------------------------------------------------------------------------------


def test_admin_adds_a_number(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(NUMBER_CREATE, {"phone_number": "(415) 555-0199", "messages_per_second": "2"})
    assert response.status_code == 302
    number = SenderNumber.objects.get(phone_number="+14155550199")
    assert number.business == tenant_a.business and number.messages_per_second == 2


def test_number_errors_are_shown_next_to_the_field(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    html = client.post(NUMBER_CREATE, {"phone_number": "hello", "messages_per_second": "1"}).content.decode()
    assert 'id="id_phone_number_error"' in html and "is not a phone number" in html
    html = client.post(
        NUMBER_CREATE, {"phone_number": tenant_b.number.phone_number, "messages_per_second": "1"}
    ).content.decode()
    assert 'id="id_phone_number_error"' in html and "Another business already uses this number." in html
    html = client.post(NUMBER_CREATE, {"phone_number": "+14155550199", "messages_per_second": "5000"}).content.decode()
    assert 'id="id_messages_per_second_error"' in html
    assert not SenderNumber.objects.filter(phone_number="+14155550199").exists()


def test_a_number_not_on_the_telnyx_account_is_refused_next_to_the_field(client, tenant_a, fake_telnyx):
    fake_telnyx.own("+12025550100")
    client.force_login(tenant_a.admin.user)
    response = client.post(NUMBER_CREATE, {"phone_number": "(312) 555-0001", "messages_per_second": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_phone_number_error"' in html
    assert "This number is not on your Telnyx account: buy or port it in the Telnyx portal first." in html
    assert not SenderNumber.objects.filter(phone_number="+13125550001").exists()

    response = client.post(NUMBER_CREATE, {"phone_number": "(202) 555-0100", "messages_per_second": "1"})
    assert response.status_code == 302
    assert SenderNumber.objects.get(phone_number="+12025550100").business == tenant_a.business


def test_a_telnyx_outage_during_the_check_is_a_503_page_that_keeps_the_form(client, tenant_a, fake_telnyx):
    fake_telnyx.fail(status=500, code="10007", title="Unexpected error", path="/v2/phone_numbers")
    client.force_login(tenant_a.admin.user)
    response = client.post(NUMBER_CREATE, {"phone_number": "(202) 555-0100", "messages_per_second": "1"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "We could not check with Telnyx that this number is on your account, so it was not added." in html
    assert 'value="(202) 555-0100"' in html
    assert not SenderNumber.objects.filter(phone_number="+12025550100").exists()


def test_a_member_cannot_add_a_number_and_telnyx_is_not_asked(client, tenant_a, fake_telnyx):
    client.force_login(tenant_a.member.user)
    response = client.post(NUMBER_CREATE, {"phone_number": "(202) 555-0100", "messages_per_second": "1"})
    assert response.status_code == 403
    assert fake_telnyx.lookups() == []
    assert not SenderNumber.objects.filter(phone_number="+12025550100").exists()


def test_admin_edits_and_removes_a_number(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(
        url("number-edit", tenant_a.number), {"messaging_profile_id": "prof-1", "messages_per_second": 3}
    )
    assert response.status_code == 302
    tenant_a.number.refresh_from_db()
    assert (tenant_a.number.messaging_profile_id, tenant_a.number.messages_per_second) == ("prof-1", 3)

    confirm = client.get(url("number-delete", tenant_a.number))
    assert confirm.status_code == 200 and "JOIN" in confirm.content.decode()
    assert client.post(url("number-delete", tenant_a.number)).status_code == 302
    assert not SenderNumber.objects.filter(pk=tenant_a.number.pk).exists()
    assert not Keyword.objects.filter(pk=tenant_a.keyword.pk).exists()


@pytest.mark.parametrize("role", ["member"])
def test_members_cannot_change_numbers(client, tenant_a, role):
    client.force_login(getattr(tenant_a, role).user)
    number = tenant_a.number
    assert client.get(NUMBER_CREATE).status_code == 403
    assert client.post(NUMBER_CREATE, {"phone_number": "+14155550199", "messages_per_second": 1}).status_code == 403
    assert client.post(url("number-edit", number), {"messages_per_second": 9}).status_code == 403
    assert client.post(url("number-delete", number)).status_code == 403
    assert SenderNumber.objects.filter(pk=number.pk, messages_per_second=number.messages_per_second).exists()
    assert not SenderNumber.objects.filter(phone_number="+14155550199").exists()


def test_another_business_number_is_not_found(client, tenant_a, tenant_b):
    client.force_login(tenant_a.owner.user)
    theirs = tenant_b.number
    assert client.get(url("number-edit", theirs)).status_code == 404
    assert client.post(url("number-edit", theirs), {"messages_per_second": 9}).status_code == 404
    assert client.get(url("number-delete", theirs)).status_code == 404
    assert client.post(url("number-delete", theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.messages_per_second != 9


# --- Keywords -------------------------------------------------------------------------------------------------------


def test_admin_adds_a_keyword_with_a_compliant_confirmation(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    form = client.get(KEYWORD_CREATE, {"number": tenant_a.number.pk})
    assert form.status_code == 200
    response = client.post(
        KEYWORD_CREATE,
        {"number": tenant_a.number.pk, "keyword": "pizza", "confirmation_text": GOOD_CONFIRMATION, "is_active": "on"},
    )
    assert response.status_code == 302
    keyword = Keyword.objects.get(business=tenant_a.business, keyword="PIZZA")
    assert keyword.confirmation_text == GOOD_CONFIRMATION and keyword.is_active


def test_keyword_form_lists_the_required_parts_for_the_live_checklist(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    html = client.get(KEYWORD_CREATE).content.decode()
    assert "js/keywords.js" in html
    raw = re.search(r'data-requirements="([^"]*)"', html).group(1)
    requirements = json.loads(raw.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&"))
    assert requirements[0]["text"] == "Tony's Pizza"
    labels = " ".join(r["label"] for r in requirements)
    assert "Msg frequency varies" in labels and "Msg & data rates may apply" in labels
    assert "HELP" in labels and "STOP" in labels
    # The same patterns the server checks with.
    for requirement in requirements[1:]:
        assert re.search(requirement["pattern"], GOOD_CONFIRMATION, re.I)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"keyword": "STOP"}, "keyword", "reserved"),
        ({"keyword": "two words"}, "keyword", "one word"),
        ({"keyword": "x" * 500}, "keyword", "2 to 20 letters"),
        ({"keyword": "JOIN"}, "keyword", "already a keyword"),
        ({"keyword": "DEALS", "confirmation_text": "Thanks for joining!"}, "confirmation_text", "Msg frequency varies"),
        (
            {"keyword": "DEALS", "confirmation_text": "Msg frequency varies. Msg & data rates may apply. HELP STOP"},
            "confirmation_text",
            "name the business",
        ),
        ({"keyword": "DEALS", "number": "abc"}, "number", "Choose one of your numbers"),
    ],
)
def test_keyword_errors_are_shown_next_to_the_field(client, tenant_a, data, field, words):
    client.force_login(tenant_a.admin.user)
    response = client.post(KEYWORD_CREATE, {"number": tenant_a.number.pk, **data})
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', html)
    assert error and words in error.group(1).replace("&quot;", '"').replace("&amp;", "&")
    assert Keyword.objects.filter(business=tenant_a.business).count() == 1


def test_keyword_cannot_go_on_another_business_number(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    response = client.post(KEYWORD_CREATE, {"number": tenant_b.number.pk, "keyword": "DEALS"})
    assert response.status_code == 200 and 'id="id_number_error"' in response.content.decode()
    assert not Keyword.objects.filter(keyword="DEALS").exists()


def test_admin_edits_and_removes_a_keyword(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    keyword = tenant_a.keyword
    response = client.post(
        url("keyword-edit", keyword), {"number": tenant_a.number.pk, "keyword": "Slice", "confirmation_text": ""}
    )
    assert response.status_code == 302
    keyword.refresh_from_db()
    assert keyword.keyword == "SLICE" and not keyword.is_active

    html = client.post(
        url("keyword-edit", keyword), {"number": tenant_a.number.pk, "keyword": "SLICE", "confirmation_text": "hi"}
    ).content.decode()
    assert 'id="id_confirmation_text_error"' in html
    keyword.refresh_from_db()
    assert keyword.confirmation_text == ""

    assert client.get(url("keyword-delete", keyword)).status_code == 200
    assert client.post(url("keyword-delete", keyword)).status_code == 302
    assert not Keyword.objects.filter(pk=keyword.pk).exists()


def test_members_cannot_change_keywords(client, tenant_a):
    client.force_login(tenant_a.member.user)
    keyword = tenant_a.keyword
    assert client.get(KEYWORD_CREATE).status_code == 403
    assert client.post(KEYWORD_CREATE, {"number": tenant_a.number.pk, "keyword": "DEALS"}).status_code == 403
    assert client.post(url("keyword-edit", keyword), {"number": tenant_a.number.pk, "keyword": "X1"}).status_code == 403
    assert client.post(url("keyword-delete", keyword)).status_code == 403
    keyword.refresh_from_db()
    assert keyword.keyword == "JOIN"


def test_another_business_keyword_is_not_found(client, tenant_a, tenant_b):
    client.force_login(tenant_a.owner.user)
    theirs = tenant_b.keyword
    assert client.get(url("keyword-edit", theirs)).status_code == 404
    post = {"number": tenant_a.number.pk, "keyword": "MINE"}
    assert client.post(url("keyword-edit", theirs), post).status_code == 404
    assert client.get(url("keyword-delete", theirs)).status_code == 404
    assert client.post(url("keyword-delete", theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.keyword == "JOIN"


@pytest.mark.parametrize("number", ["abc", "-1", "99999999999999999999", "²", ""])
def test_garbage_number_in_the_query_string(client, tenant_a, number):
    client.force_login(tenant_a.admin.user)
    assert client.get(KEYWORD_CREATE, {"number": number}).status_code == 200


def test_keyword_form_without_numbers_sends_the_admin_to_add_one(client, tenant_a):
    tenant_a.number.delete()
    client.force_login(tenant_a.admin.user)
    response = client.get(KEYWORD_CREATE)
    assert response.status_code == 302 and response["Location"] == NUMBER_CREATE


@pytest.mark.parametrize("path", ["/app/numbers/abc/edit/", "/app/keywords/99999999999999999999/edit/"])
def test_bad_ids_are_not_found(client, tenant_a, path):
    client.force_login(tenant_a.admin.user)
    assert client.get(path).status_code == 404


def test_help_and_errors_are_tied_to_their_field_for_screen_readers(client, tenant_a):
    """The control's aria-describedby names the help text and the error shown next to it."""
    client.force_login(tenant_a.admin.user)
    html = client.post(KEYWORD_CREATE, {"number": tenant_a.number.pk, "keyword": "!"}).content.decode()
    described = re.search(r'<input[^>]*name="keyword"[^>]*aria-describedby="([^"]+)"', html)
    assert described, html
    for target in described.group(1).split():
        assert f'id="{target}"' in html
