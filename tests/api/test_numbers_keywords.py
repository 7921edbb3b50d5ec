"""/api/v1/numbers/ and /api/v1/keywords/: numbers are stored as E.164 and unique platform-wide; keywords are one
word, unique per number in any case, never a reserved word, and a custom confirmation keeps the required disclosures.
"""

import socket

import pytest

from subscribers.models import Keyword, SenderNumber
from tests.helpers import api_client

NUMBERS = "/api/v1/numbers/"
KEYWORDS = "/api/v1/keywords/"
COMPLIANT = (
    "Tony's Pizza: you're in! Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to cancel."
)


@pytest.fixture
def admin(tenant_a):
    return api_client(tenant_a.admin)


# --- numbers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "(202) 555-0188",
        "202.555.0188",
        "202-555-0188",
        "2025550188",
        "1 202 555 0188",
        "+1 (202) 555-0188",
        " +12025550188 ",
    ],
)
def test_a_number_in_a_messy_us_format_is_stored_as_e164(tenant_a, admin, raw):
    response = admin.post(NUMBERS, {"phone_number": raw}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["phone_number"] == "+12025550188"
    assert SenderNumber.objects.get(pk=response.json()["id"]).business == tenant_a.business


@pytest.mark.parametrize("raw", ["12345", "not a number", "+1 555 555 5555", "+12025550188999"])
def test_an_invalid_number_is_refused_saying_what_to_fix(admin, raw):
    response = admin.post(NUMBERS, {"phone_number": raw}, format="json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("phone_number:")
    assert "E.164" in response.json()["error"]
    assert not SenderNumber.objects.filter(phone_number__startswith="+1555").exists()


def test_a_blank_number_is_refused(admin):
    response = admin.post(NUMBERS, {"phone_number": ""}, format="json")

    assert response.status_code == 400
    assert "phone_number" in response.json()["details"]


@pytest.mark.parametrize("owner", ["same business", "another business"])
def test_a_number_already_registered_by_any_business_is_refused(tenant_a, tenant_b, admin, owner):
    existing = (tenant_a if owner == "same business" else tenant_b).number
    messy = f"({existing.phone_number[2:5]}) {existing.phone_number[5:8]}-{existing.phone_number[8:]}"

    response = admin.post(NUMBERS, {"phone_number": messy}, format="json")

    assert response.status_code == 400
    expected = (
        "This number is already one of yours."
        if owner == "same business"
        else ("Another business already uses this number.")
    )
    assert response.json()["error"] == f"phone_number: {expected}"
    assert SenderNumber.objects.filter(phone_number=existing.phone_number).count() == 1


def test_a_number_the_telnyx_account_owns_is_registered(tenant_a, admin, fake_telnyx):
    fake_telnyx.own("+12025550188")
    response = admin.post(NUMBERS, {"phone_number": "(202) 555-0188"}, format="json")
    assert response.status_code == 201, response.content
    assert SenderNumber.objects.get(phone_number="+12025550188").business == tenant_a.business
    assert [q["filter[phone_number]"] for q in fake_telnyx.lookups()] == ["12025550188"]


def test_a_number_not_on_the_telnyx_account_is_refused_saying_what_to_do(admin, fake_telnyx):
    """A subscriber's own mobile number, say: the platform cannot send from it, and no business may claim it."""
    fake_telnyx.own("+12025550188")
    response = admin.post(NUMBERS, {"phone_number": "+13125550001"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "phone_number: This number is not on your Telnyx account: buy or port it in the Telnyx portal first."
    )
    assert not SenderNumber.objects.filter(phone_number="+13125550001").exists()


def test_a_number_of_another_business_is_refused_without_asking_telnyx(tenant_b, admin, fake_telnyx):
    response = admin.post(NUMBERS, {"phone_number": tenant_b.number.phone_number}, format="json")
    assert response.status_code == 400
    assert "Another business already uses this number" in response.json()["error"]
    assert fake_telnyx.lookups() == []
    assert SenderNumber.objects.get(phone_number=tenant_b.number.phone_number).business == tenant_b.business


def test_a_telnyx_outage_during_the_check_is_a_503_that_says_so(admin, fake_telnyx):
    fake_telnyx.fail(status=503, code="10007", title="Service unavailable", path="/v2/phone_numbers")
    response = admin.post(NUMBERS, {"phone_number": "+12025550188"}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json()["error"] == (
        "We could not check with Telnyx that this number is on your account, so it was not added. "
        "Please try again in a minute."
    )
    assert not SenderNumber.objects.filter(phone_number="+12025550188").exists()


def test_telnyx_unreachable_during_the_check_is_a_503(admin, fake_telnyx, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TELNYX_BASE_URL = f"http://127.0.0.1:{port}/v2"
    response = admin.post(NUMBERS, {"phone_number": "+12025550188"}, format="json")
    assert response.status_code == 503
    assert "We could not check with Telnyx" in response.json()["error"]
    assert not SenderNumber.objects.filter(phone_number="+12025550188").exists()


def test_a_member_cannot_register_a_number_and_telnyx_is_not_asked(tenant_a, fake_telnyx):
    response = api_client(tenant_a.member).post(NUMBERS, {"phone_number": "+12025550188"}, format="json")
    assert response.status_code == 403
    assert fake_telnyx.lookups() == []
    assert not SenderNumber.objects.filter(phone_number="+12025550188").exists()


def test_another_business_number_is_not_found(tenant_a, tenant_b, admin):
    assert admin.get(f"{NUMBERS}{tenant_b.number.pk}/").status_code == 404
    assert admin.delete(f"{NUMBERS}{tenant_b.number.pk}/").status_code == 404
    assert SenderNumber.objects.filter(pk=tenant_b.number.pk).exists()


@pytest.mark.parametrize("rate", [0, 1001, -1])
def test_a_number_rate_outside_its_range_is_refused(admin, rate):
    response = admin.post(NUMBERS, {"phone_number": "+12025550188", "messages_per_second": rate}, format="json")

    assert response.status_code == 400
    assert "messages_per_second" in response.json()["details"]


def test_numbers_are_listed_and_deleted(tenant_a, admin):
    created = admin.post(NUMBERS, {"phone_number": "+12025550188", "messages_per_second": 5}, format="json").json()

    listed = admin.get(NUMBERS).json()["results"]
    assert {n["phone_number"] for n in listed} == {tenant_a.number.phone_number, "+12025550188"}
    assert admin.get(f"{NUMBERS}{created['id']}/").json()["messages_per_second"] == 5

    assert admin.delete(f"{NUMBERS}{created['id']}/").status_code == 204
    assert admin.get(f"{NUMBERS}{created['id']}/").status_code == 404


def test_deleting_a_number_removes_its_keywords(tenant_a, admin):
    assert admin.delete(f"{NUMBERS}{tenant_a.number.pk}/").status_code == 204

    assert not Keyword.objects.filter(pk=tenant_a.keyword.pk).exists()


# --- keywords -------------------------------------------------------------------------------------------------------


def test_a_keyword_is_created_on_a_number_of_the_business(tenant_a, admin):
    response = admin.post(KEYWORDS, {"keyword": "pizza", "number": tenant_a.number.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["keyword"] == "PIZZA"
    assert body["number"] == tenant_a.number.pk
    assert body["is_active"] is True
    keyword = Keyword.objects.get(pk=body["id"])
    assert (keyword.business, keyword.number, keyword.confirmation_text) == (tenant_a.business, tenant_a.number, "")


@pytest.mark.parametrize("spelling", ["JOIN", "join", "Join", " jOiN "])
def test_keywords_are_unique_per_number_in_any_case(tenant_a, admin, spelling):
    response = admin.post(KEYWORDS, {"keyword": spelling, "number": tenant_a.number.pk}, format="json")

    assert response.status_code == 400
    assert "JOIN is already a keyword" in response.json()["error"]
    assert Keyword.objects.filter(number=tenant_a.number).count() == 1


def test_the_same_keyword_may_be_used_on_another_number(tenant_a, admin):
    other = admin.post(NUMBERS, {"phone_number": "+12025550188"}, format="json").json()

    response = admin.post(KEYWORDS, {"keyword": "join", "number": other["id"]}, format="json")

    assert response.status_code == 201
    assert Keyword.objects.filter(keyword="JOIN", business=tenant_a.business).count() == 2


def test_renaming_a_keyword_onto_an_existing_one_is_refused(tenant_a, admin):
    pizza = admin.post(KEYWORDS, {"keyword": "PIZZA", "number": tenant_a.number.pk}, format="json").json()

    response = admin.patch(f"{KEYWORDS}{pizza['id']}/", {"keyword": "join"}, format="json")

    assert response.status_code == 400
    assert "JOIN is already a keyword" in response.json()["error"]
    assert Keyword.objects.get(pk=pizza["id"]).keyword == "PIZZA"


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "START",
        "UNSTOP",
        "YES",
        "SUBSCRIBE",
        "HELP",
        "Info",
    ],
)
def test_reserved_words_cannot_be_keywords(tenant_a, admin, word):
    response = admin.post(KEYWORDS, {"keyword": word, "number": tenant_a.number.pk}, format="json")

    assert response.status_code == 400
    assert "reserved" in response.json()["error"]
    assert not Keyword.objects.filter(keyword__iexact=word).exists()


def test_a_keyword_cannot_be_renamed_to_a_reserved_word(tenant_a, admin):
    response = admin.patch(f"{KEYWORDS}{tenant_a.keyword.pk}/", {"keyword": "stop"}, format="json")

    assert response.status_code == 400
    assert "reserved" in response.json()["error"]
    tenant_a.keyword.refresh_from_db()
    assert tenant_a.keyword.keyword == "JOIN"


@pytest.mark.parametrize("word", ["A", "TWO WORDS", "PIZZA!", "X" * 21, ""])
def test_a_keyword_must_be_one_word_of_2_to_20_letters_or_digits(tenant_a, admin, word):
    response = admin.post(KEYWORDS, {"keyword": word, "number": tenant_a.number.pk}, format="json")

    assert response.status_code == 400
    assert "keyword" in response.json()["details"]


# (what is missing, the text without it, how the error names it)
MISSING_DISCLOSURES = [
    (
        "business name",
        "You're in! Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
        'name the business ("Tony\'s Pizza")',
    ),
    (
        "frequency",
        "Tony's Pizza: you're in! Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
        '"Msg frequency varies."',
    ),
    (
        "rates",
        "Tony's Pizza: you're in! Msg frequency varies. Reply HELP for help, STOP to cancel.",
        '"Msg & data rates may apply."',
    ),
    (
        "help",
        "Tony's Pizza: you're in! Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel.",
        '"Reply HELP for help"',
    ),
    (
        "stop",
        "Tony's Pizza: you're in! Msg frequency varies. Msg & data rates may apply. Reply HELP for help.",
        '"STOP to cancel"',
    ),
]


@pytest.mark.parametrize(("what", "text", "named"), MISSING_DISCLOSURES, ids=[m[0] for m in MISSING_DISCLOSURES])
def test_a_custom_confirmation_missing_a_disclosure_is_refused_naming_it(tenant_a, admin, what, text, named):
    response = admin.post(
        KEYWORDS, {"keyword": "PIZZA", "number": tenant_a.number.pk, "confirmation_text": text}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("confirmation_text:")
    assert named in error
    # Only what is missing is named.
    for _other, _text, other_named in MISSING_DISCLOSURES:
        if other_named != named:
            assert other_named not in error
    assert not Keyword.objects.filter(keyword="PIZZA").exists()


def test_a_custom_confirmation_missing_everything_names_every_disclosure(tenant_a, admin):
    response = admin.post(
        KEYWORDS, {"keyword": "PIZZA", "number": tenant_a.number.pk, "confirmation_text": "Hi!"}, format="json"
    )

    assert response.status_code == 400
    assert all(named in response.json()["error"] for _what, _text, named in MISSING_DISCLOSURES)


@pytest.mark.parametrize(
    "text",
    [
        COMPLIANT,
        "TONY'S PIZZA deals: message frequency varies; message and data rates may apply. HELP for help, STOP to end.",
    ],
)
def test_a_compliant_custom_confirmation_is_accepted(tenant_a, admin, text):
    response = admin.post(
        KEYWORDS, {"keyword": "PIZZA", "number": tenant_a.number.pk, "confirmation_text": text}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Keyword.objects.get(pk=response.json()["id"]).confirmation_text == text


def test_an_update_cannot_strip_the_disclosures_from_a_confirmation(tenant_a, admin):
    created = admin.post(
        KEYWORDS, {"keyword": "PIZZA", "number": tenant_a.number.pk, "confirmation_text": COMPLIANT}, format="json"
    ).json()

    response = admin.patch(f"{KEYWORDS}{created['id']}/", {"confirmation_text": "Tony's Pizza: hi!"}, format="json")

    assert response.status_code == 400
    assert Keyword.objects.get(pk=created["id"]).confirmation_text == COMPLIANT


def test_a_keyword_is_updated_with_patch_and_put(tenant_a, admin):
    url = f"{KEYWORDS}{tenant_a.keyword.pk}/"

    patched = admin.patch(url, {"keyword": "deals", "is_active": False}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["keyword"], patched.json()["is_active"]) == ("DEALS", False)

    put = admin.put(
        url,
        {"keyword": "pizza", "number": tenant_a.number.pk, "confirmation_text": COMPLIANT, "is_active": True},
        format="json",
    )
    assert put.status_code == 200, put.content

    tenant_a.keyword.refresh_from_db()
    assert (tenant_a.keyword.keyword, tenant_a.keyword.confirmation_text, tenant_a.keyword.is_active) == (
        "PIZZA",
        COMPLIANT,
        True,
    )


def test_a_keyword_can_keep_its_own_word_on_update(tenant_a, admin):
    response = admin.patch(f"{KEYWORDS}{tenant_a.keyword.pk}/", {"keyword": "join"}, format="json")

    assert response.status_code == 200
    assert response.json()["keyword"] == "JOIN"


def test_a_keyword_is_deleted(tenant_a, admin):
    response = admin.delete(f"{KEYWORDS}{tenant_a.keyword.pk}/")

    assert response.status_code == 204
    assert not Keyword.objects.filter(pk=tenant_a.keyword.pk).exists()
    assert admin.get(KEYWORDS).json()["results"] == []
