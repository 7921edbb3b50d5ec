"""The HELP reply page: admins write their own reply with the required parts checked, or go back to the standard
one; members cannot; each business sees and changes only its own."""

import html as html_lib
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent import replies
from tests.factories import KeywordFactory, SenderNumberFactory

HELP_REPLY = reverse("dashboard:help-reply")
NUMBERS = reverse("dashboard:numbers")
DISCLOSURES = "Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel."


def _custom(tenant):
    return f"{tenant.business.name}: questions? {tenant.business.support_contact}. {DISCLOSURES}"


def _saved(tenant):
    tenant.business.refresh_from_db()
    return tenant.business.help_text


def _requirements(html):
    raw = re.search(r'data-requirements="([^"]*)"', html).group(1)
    return json.loads(html_lib.unescape(raw))


def _field_error(html):
    """The error shown right under the HELP reply box, tied to it for screen readers."""
    match = re.search(r'<p class="error" id="id_help_text_error">(.*?)</p>', html, re.S)
    return html_lib.unescape(match.group(1)) if match else None


def test_page_prefills_the_standard_reply_for_an_admin(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(HELP_REPLY)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert '<label for="id_help_text">' in html
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert html_lib.unescape(textarea).strip() == replies.standard_help_reply(tenant_a.business)
    assert "Use the standard reply" in html


def test_page_prefills_the_custom_reply_when_there_is_one(client, tenant_a):
    tenant_a.business.help_text = _custom(tenant_a)
    tenant_a.business.save()
    client.force_login(tenant_a.owner.user)
    html = client.get(HELP_REPLY).content.decode()
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert html_lib.unescape(textarea).strip() == _custom(tenant_a)
    assert "Your own reply" in html


def test_admin_saves_a_custom_reply_and_the_numbers_page_shows_it(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(HELP_REPLY, {"help_text": _custom(tenant_a)}, follow=True)
    assert response.redirect_chain == [(NUMBERS, 302)]
    assert _saved(tenant_a) == _custom(tenant_a)
    html = html_lib.unescape(response.content.decode())
    assert "people who text HELP now get your reply" in html
    assert _custom(tenant_a) in html


def test_a_reply_missing_stop_is_refused_with_the_error_next_to_the_field(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    text = f"{tenant_a.business.name}: {tenant_a.business.support_contact}. Msg frequency varies. Msg & data rates."
    response = client.post(HELP_REPLY, {"help_text": text})
    assert response.status_code == 200
    html = response.content.decode()
    error = _field_error(html)
    assert error and error.startswith("The HELP reply must") and '"STOP to cancel"' in error
    assert '"Msg & data rates may apply."' in error
    assert html_lib.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)).strip() == text
    assert _saved(tenant_a) == ""


def test_a_reply_too_long_is_refused_in_words(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(HELP_REPLY, {"help_text": _custom(tenant_a) + " Thanks!" * 40})
    assert response.status_code == 200
    assert "plenty for a HELP reply" in _field_error(response.content.decode())
    assert _saved(tenant_a) == ""


@pytest.mark.parametrize(
    "data",
    [
        {"help_text": "", "use_standard": "1"},
        {"help_text": "not compliant at all", "use_standard": "1"},
        {"help_text": "   "},
        {},
    ],
)
def test_admin_goes_back_to_the_standard_reply(client, tenant_a, data):
    tenant_a.business.help_text = _custom(tenant_a)
    tenant_a.business.save()
    client.force_login(tenant_a.admin.user)
    response = client.post(HELP_REPLY, data, follow=True)
    assert response.redirect_chain == [(NUMBERS, 302)]
    assert _saved(tenant_a) == ""
    assert "people who text HELP get the standard reply" in html_lib.unescape(response.content.decode())


def test_saving_the_prefilled_standard_reply_keeps_it_standard(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    client.post(HELP_REPLY, {"help_text": replies.standard_help_reply(tenant_a.business)})
    assert _saved(tenant_a) == ""


def test_a_member_can_neither_open_nor_save_the_page(client, tenant_a):
    client.force_login(tenant_a.member.user)
    assert client.get(HELP_REPLY).status_code == 403
    assert client.post(HELP_REPLY, {"help_text": _custom(tenant_a)}).status_code == 403
    assert client.post(HELP_REPLY, {"use_standard": "1"}).status_code == 403
    assert _saved(tenant_a) == ""


def test_numbers_page_links_to_the_page_for_admins_only(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    assert HELP_REPLY in client.get(NUMBERS).content.decode()
    client.force_login(tenant_a.member.user)
    html = client.get(NUMBERS).content.decode()
    assert HELP_REPLY not in html
    assert "(standard)" in html


def test_page_shows_and_changes_only_the_current_business(client, tenant_a, tenant_b):
    tenant_b.business.help_text = _custom(tenant_b)
    tenant_b.business.save()
    client.force_login(tenant_a.admin.user)
    html = html_lib.unescape(client.get(HELP_REPLY).content.decode())
    assert tenant_b.business.name not in html and _custom(tenant_b) not in html
    assert html_lib.unescape(client.get(NUMBERS).content.decode()).count(_custom(tenant_b)) == 0
    client.post(HELP_REPLY, {"use_standard": "1"})
    assert _saved(tenant_b) == _custom(tenant_b)


def test_the_checklist_is_what_consent_replies_checks(client, tenant_a):
    business = tenant_a.business
    business.phone = "+14155550100"
    business.save()
    client.force_login(tenant_a.admin.user)
    html = client.get(HELP_REPLY).content.decode()
    assert 'data-target="id_help_text"' in html
    requirements = _requirements(html)
    name, contact, *elements, length = requirements
    assert name["text"] == business.name
    assert contact["pattern"] == replies.help_contact_pattern(business).pattern and contact["flags"] == "i"
    assert business.support_contact in contact["label"] and business.phone in contact["label"]
    assert [e["pattern"] for e in elements] == [p.pattern for _w, p, _f in replies.REQUIRED_HELP_ELEMENTS]
    assert length["max"] == replies.MAX_HELP_LENGTH


NO_CONTACT = "You have no support contact"


def test_the_checklist_flags_a_business_with_no_contact(client, tenant_a):
    business = tenant_a.business
    business.support_contact = business.phone = ""
    business.save()
    client.force_login(tenant_a.admin.user)

    html = client.get(HELP_REPLY).content.decode()

    flag = re.search(r'<p class="checklist-flag"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert NO_CONTACT in html_lib.unescape(flag)
    assert f'href="{reverse("dashboard:settings")}#id_support_contact"' in flag
    # The standard reply has no way to reach them, so a blank box is not "all of these".
    _name, contact, *_rest = _requirements(html)
    assert contact["blank_missing"] is True
    assert "which has all of these" not in html
    assert not replies.help_contact_pattern(business).search(replies.standard_help_reply(business))


def test_the_checklist_has_no_flag_when_the_business_has_a_contact(client, tenant_a):
    client.force_login(tenant_a.admin.user)

    html = client.get(HELP_REPLY).content.decode()

    assert NO_CONTACT not in html and "checklist-flag" not in html
    _name, contact, *_rest = _requirements(html)
    assert not contact.get("blank_missing")
    assert "which has all of these" in html


@pytest.mark.parametrize(
    "data",
    [
        {"help_text": "x" * 100_000},
        {"help_text": "Tony's Pizza \x00 STOP"},
        {"help_text": "🍕" * 400},
        {"help_text": "<script>alert(1)</script>"},
        {"help_text": ["a", "b"]},
        {"use_standard": "maybe"},
        {"use_standard": "x" * 10_000, "help_text": "y"},
    ],
)
def test_garbage_never_breaks_the_page(client, tenant_a, data):
    client.force_login(tenant_a.admin.user)
    response = client.post(HELP_REPLY, data)
    assert response.status_code in (200, 302)
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_garbage_in_the_query_string_is_ignored(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    assert client.get(HELP_REPLY + "?page=abc&id=99999999999999999999").status_code == 200


def _queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HELP_REPLY).status_code == 200
    return len(queries)


def test_page_query_count_is_small_and_does_not_grow(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    few = _queries(client)
    for _ in range(30):
        KeywordFactory(number=SenderNumberFactory(business=tenant_a.business))
    tenant_a.business.help_text = _custom(tenant_a)
    tenant_a.business.save()
    assert _queries(client) == few
    assert few <= 10  # session, user, membership, business and the sidebar: the page itself adds none
