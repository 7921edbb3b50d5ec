"""The hosted sign-up form is the business's own: its name heads the page, and its terms / privacy links go to the
business's own pages when the owner sets them in Settings (validated http(s) addresses), the platform's otherwise."""

import html
import re

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from accounts.models import Business
from consent.models import ConsentEvent
from tracking import services as tracking_services
from web import webform

TERMS = "https://tonys.example/terms"
PRIVACY = "https://tonys.example/privacy"


def _settings_client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _profile(business, **overrides):
    data = {
        "name": business.name,
        "time_zone": business.time_zone,
        "marketing_messages_per_day": str(business.marketing_messages_per_day),
        **overrides,
    }
    return data


def _field_error(response, field: str) -> str:
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(found.group(1)) if found else ""


def _join(tenant, client=None):
    return (client or Client()).get(reverse("join", args=[tenant.business.slug]))


def test_the_form_is_headed_and_titled_with_the_businesss_name(tenant_a):
    page = _join(tenant_a).content.decode()

    assert "<h1>Tony&#x27;s Pizza</h1>" in page
    assert "<title>Tony&#x27;s Pizza text alerts</title>" in page


def test_by_default_the_form_links_the_platforms_terms_and_privacy_policy(tenant_a):
    page = _join(tenant_a).content.decode()

    assert '<a href="/terms/">Terms</a>' in page and '<a href="/privacy/">Privacy Policy</a>' in page


def test_an_owner_points_the_form_at_the_businesss_own_pages(tenant_a, fake_telnyx):
    response = _settings_client(tenant_a.owner).post(
        reverse("dashboard:settings"), _profile(tenant_a.business, terms_url=TERMS, privacy_url=PRIVACY)
    )
    assert response.status_code == 302
    business = Business.objects.get(pk=tenant_a.business.pk)
    assert (business.terms_url, business.privacy_url) == (TERMS, PRIVACY)

    page = _join(tenant_a).content.decode()
    assert f'<a href="{TERMS}">Terms</a>' in page and f'<a href="{PRIVACY}">Privacy Policy</a>' in page
    assert 'href="/terms/"' not in page

    # The consent evidence names the pages the consumer was pointed to.
    disclosure = webform.disclosure_for(business=business)
    data = {"phone": "(312) 555-0001", "consent": "on", "disclosure_digest": disclosure.digest}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert Client().post(reverse("join", args=[business.slug]), data).status_code == 200
    [pending] = ConsentEvent.objects.filter(business=business, kind=ConsentEvent.Kind.PENDING)
    assert f"Terms ({TERMS}) and Privacy Policy ({PRIVACY})" in pending.evidence["disclosure_text"]


def test_a_form_loaded_before_the_links_changed_is_shown_again_not_accepted(tenant_a, fake_telnyx):
    before = webform.disclosure_for(business=tenant_a.business).digest
    Business.objects.filter(pk=tenant_a.business.pk).update(terms_url=TERMS)

    data = {"phone": "(312) 555-0001", "consent": "on", "disclosure_digest": before}
    response = Client().post(reverse("join", args=[tenant_a.business.slug]), data)

    assert response.status_code == 400
    assert fake_telnyx.messages() == []
    assert f'<a href="{TERMS}">Terms</a>' in response.content.decode()


def test_an_address_without_a_scheme_is_taken_as_https_and_an_empty_one_restores_the_default(tenant_a):
    client = _settings_client(tenant_a.owner)
    client.post(reverse("dashboard:settings"), _profile(tenant_a.business, terms_url="  tonys.example/terms "))
    assert Business.objects.get(pk=tenant_a.business.pk).terms_url == TERMS

    client.post(reverse("dashboard:settings"), _profile(tenant_a.business, terms_url=""))
    assert Business.objects.get(pk=tenant_a.business.pk).terms_url == ""
    assert '<a href="/terms/">Terms</a>' in _join(tenant_a).content.decode()


@pytest.mark.parametrize(
    "value, words",
    [
        ("javascript:alert(1)", "starting with https://"),
        ("ftp://tonys.example/terms", "starting with https://"),
        ("mailto:legal@tonys.example", "starting with https://"),
        ("https://", "starting with https://"),
        ("not a web address", "starting with https://"),
        ("https://tonys.example/" + "t" * 600, "at most 500"),
        ("https://tonys.example/\x00", "Null characters are not allowed"),
    ],
)
@pytest.mark.parametrize("field", ["terms_url", "privacy_url"])
def test_a_bad_address_is_refused_next_to_its_field_and_nothing_changes(tenant_a, field, value, words):
    response = _settings_client(tenant_a.owner).post(
        reverse("dashboard:settings"), _profile(tenant_a.business, **{field: value})
    )

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert getattr(Business.objects.get(pk=tenant_a.business.pk), field) == ""


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_change_the_links_and_everyone_sees_them(tenant_a, role):
    Business.objects.filter(pk=tenant_a.business.pk).update(terms_url=TERMS)
    client = _settings_client(getattr(tenant_a, role))

    response = client.post(reverse("dashboard:settings"), _profile(tenant_a.business, terms_url=PRIVACY))

    assert response.status_code == 403
    assert Business.objects.get(pk=tenant_a.business.pk).terms_url == TERMS
    page = client.get(reverse("dashboard:settings")).content.decode()
    assert TERMS in page and 'name="terms_url"' not in page


def test_one_businesss_links_never_appear_on_anothers_form(tenant_a, tenant_b):
    Business.objects.filter(pk=tenant_b.business.pk).update(terms_url="https://bella.example/terms")

    page = _join(tenant_a).content.decode()

    assert "bella.example" not in page and "Bella Realty" not in page
    assert '<a href="/terms/">Terms</a>' in page


def test_the_qr_codes_desktop_page_links_the_same_pages_as_the_form(tenant_a):
    code = tracking_services.qr_code_create(
        business=tenant_a.business, number=tenant_a.number, keyword=tenant_a.keyword, label="Front door"
    )
    desktop = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36"
    )

    def links():
        page = Client().get(reverse("qr-scan", args=[code.slug]), HTTP_USER_AGENT=desktop).content.decode()
        return re.search(r'<a href="([^"]+)">Privacy policy</a> &middot; <a href="([^"]+)">Terms</a>', page).groups()

    assert links() == ("/privacy/", "/terms/")
    Business.objects.filter(pk=tenant_a.business.pk).update(terms_url=TERMS, privacy_url=PRIVACY)
    assert links() == (PRIVACY, TERMS)
