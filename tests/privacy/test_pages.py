"""The privacy policy and the terms of service: public pages, linked from every consumer-facing page, that say what
the code actually does.

Where a statement depends on a value in the code (quiet hours, the frequency cap, the STOP words, the required
disclosures, what a scan, a click or a web form sign-up records), the test reads the value from the code: a change
there fails here, so that the documents are updated, and their version bumped, with it. Retention periods are read
from the settings by the page itself.
"""

import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.api import SignupSerializer
from accounts.models import Business
from consent import keywords, replies
from consent.models import ConsentEvent
from nextalerts import quiet_hours
from privacy import policy
from privacy.models import PolicyDocument
from tracking import services as tracking_services
from tracking.models import Click, Scan
from web import webform

PAGES = [("privacy", "/privacy/"), ("terms", "/terms/")]
pytestmark = pytest.mark.django_db
STATE_NAMES = {"FL": "Florida", "OK": "Oklahoma", "MD": "Maryland"}
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
)


def _text(markup: str) -> str:
    """What a reader sees: no markup, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _get(name: str):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    return response


@pytest.fixture
def privacy_html() -> str:
    return Client().get("/privacy/").content.decode()


@pytest.fixture
def terms_html() -> str:
    return Client().get("/terms/").content.decode()


@pytest.fixture
def privacy(privacy_html) -> str:
    return _text(privacy_html)


@pytest.fixture
def terms(terms_html) -> str:
    return _text(terms_html)


def _item(markup: str, label: str) -> str:
    """The text of the list item that starts with <strong>label</strong>."""
    for match in re.finditer(r"<li><strong>(.*?)</strong>(.*?)</li>", markup, re.S):
        if _text(match.group(1)) == label:
            return _text(match.group(2))
    raise AssertionError(f"no list item for {label!r}")


def _hrefs(response) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', response.content.decode()))


# --- Public, at the addresses the consumer pages link to --------------------------------------------------------------


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_pages_are_public_html_and_set_no_cookies(name, path):
    assert reverse(name) == path
    response = Client().get(path)
    assert response.status_code == 200  # not a redirect to a login page
    assert response["Content-Type"].startswith("text/html")
    assert 'name="viewport"' in response.content.decode()  # readable on a phone
    assert not response.cookies  # the pages themselves need none
    assert Client().head(path).status_code == 200
    assert Client().post(path).status_code == 405


@pytest.mark.parametrize("name", ["privacy", "terms"])
def test_each_page_shows_its_version_and_effective_date(name):
    # Seeded by migrations: a fresh database works. The pages show the newest of them.
    document = PolicyDocument.objects.filter(kind=name).order_by("-version").first()
    page = _text(_get(name).content.decode())
    assert document.published_at is not None and not document.material
    assert f"Version {document.version} — effective {document.effective_on:%-d %B %Y}" in page
    assert document.get_kind_display() in page


def test_the_pages_link_to_each_other(privacy_html, terms_html):
    assert f'href="{reverse("terms")}"' in privacy_html
    assert f'href="{reverse("privacy")}"' in terms_html


# --- The privacy policy's facts ---------------------------------------------------------------------------------------


def test_privacy_says_who_controls_subscribers_data(privacy):
    assert "NextAlerts" in privacy and "operator of this service" in privacy
    assert "The business is the controller of its subscribers' data, and NextAlerts processes that data" in privacy


def test_privacy_states_every_retention_period(privacy_html):
    assert "12 months" in _item(privacy_html, "Message logs")
    assert "90 days" in _item(privacy_html, "Webhook and delivery logs")
    assert "30 days after deletion" in _item(privacy_html, "A customer who deletes their account")
    opt_outs = _item(privacy_html, "Opt-outs")
    assert "suppression list" in opt_outs and "keyed hash" in opt_outs


def test_retention_periods_are_read_from_the_settings(settings):
    assert settings.RETENTION_AUDIT_DAYS == 365 and settings.RETENTION_CONSENT_EVIDENCE_DAYS == 4 * 365 + 1
    default = Client().get("/privacy/").content.decode()
    assert "Security log : 12 months , then deleted" in _text(default)
    assert "kept for 4 years without phone numbers" in _text(default)
    settings.RETENTION_MESSAGE_DAYS = 730
    settings.RETENTION_WEBHOOK_DAYS = 45
    settings.RETENTION_DELETED_BUSINESS_DAYS = 14
    markup = Client().get("/privacy/").content.decode()
    assert "2 years" in _item(markup, "Message logs")
    assert "45 days" in _item(markup, "Webhook and delivery logs")
    assert "14 days after deletion" in _item(markup, "A customer who deletes their account")
    assert "14 days after deletion" in _text(Client().get("/terms/").content.decode())


def test_privacy_explains_how_to_make_a_data_request(privacy_html, privacy):
    section = _text(privacy_html.split('id="requests"', 1)[1].split("<h2", 1)[0])
    assert policy.contact_email() in section
    for fact in ("a copy of your information", "its deletion", "within 30 days", "keyed hash"):
        assert fact in section


def test_privacy_names_the_three_processors_and_what_they_get(privacy_html, privacy):
    assert "phone numbers" in _item(privacy_html, "Telnyx")
    assert "subscriber phone numbers are never sent to it" in _item(privacy_html, "OpenAI")
    assert "campaign-writing prompts never include phone numbers" in _item(privacy_html, "OpenAI")
    assert "Card numbers are entered with Stripe and never touch NextAlerts" in _item(privacy_html, "Stripe")
    assert "Card numbers never touch NextAlerts" in privacy
    assert "We don't sell personal information" in privacy


def test_privacy_lists_what_is_collected_about_subscribers(privacy_html, privacy):
    assert "Your phone number" in privacy
    consent = _item(privacy_html, "Your consent record")
    for fact in ("when and how you opted in", "when you opted out", "keyword", "QR code", "web form"):
        assert fact in consent
    assert "texts the business sent you" in _item(privacy_html, "Message history")


def test_privacy_discloses_every_field_a_qr_scan_records(privacy_html):
    disclosed = {
        "scanned_at": "the time",
        "device_type": "type of device",
        "os": "operating system",
        "browser": "browser",
        "user_agent": "user agent",
        "ip": "IP address",
        "referrer": "referring page",
    }
    not_about_the_person = {"id", "business", "qr_code"}
    fields = {field.name for field in Scan._meta.concrete_fields}
    assert fields - not_about_the_person == set(disclosed), "a new field a scan records: disclose it in the policy"
    item = _item(privacy_html, "QR code scans")
    for phrase in disclosed.values():
        assert phrase in item


def test_privacy_discloses_every_field_a_link_click_records(privacy_html):
    disclosed = {
        "clicked_at": "the time",
        "url": "the link",
        "message": "the message it came from",
        "campaign": "the message it came from",
        "user_agent": "user agent",
        "ip": "IP address",
    }
    not_about_the_person = {"id", "business", "is_preview"}  # is_preview: a link-preview fetcher, not a person
    fields = {field.name for field in Click._meta.concrete_fields}
    assert fields - not_about_the_person == set(disclosed), "a new field a click records: disclose it in the policy"
    item = _item(privacy_html, "Link clicks")
    for phrase in disclosed.values():
        assert phrase in item


@pytest.mark.django_db
def test_privacy_discloses_the_web_form_evidence(tenant_a, privacy_html):
    webform.web_form_sign_up(
        business=tenant_a.business,
        number=tenant_a.number,
        phone="+13125550001",
        disclosure=webform.disclosure_for(business=tenant_a.business),
        ip="198.51.100.7",
        user_agent="Mozilla/5.0",
        form_url="http://testserver/join/tonys-pizza/",
    )
    evidence = ConsentEvent.objects.get(method=ConsentEvent.Method.WEB_FORM).evidence
    disclosed = {
        "ip": "IP address",
        "user_agent": "user agent",
        "disclosure_text": "exact sign-up wording you were shown",
        "form_url": "page address",
        "submitted_at": "when and how you opted in",
        "checkbox": "web form",
    }
    not_about_the_person = {"to_number", "request_text"}  # the business's number and the text it sent
    assert set(evidence) - not_about_the_person == set(disclosed), "new web form evidence: disclose it in the policy"
    item = _item(privacy_html, "Your consent record")
    for phrase in disclosed.values():
        assert phrase in item


def test_privacy_explains_stop_and_help(privacy_html):
    assert "opted out at once" in _item(privacy_html, "Text STOP")
    assert "name" in _item(privacy_html, "Text HELP")
    assert "deleted" in _item(privacy_html, "Access and deletion.")


def test_privacy_password_hashing_matches_the_settings(privacy):
    assert "bcrypt" in settings.PASSWORD_HASHERS[0].lower()
    assert "stored only as bcrypt hashes" in privacy
    assert "API tokens are stored as hashes too, expire on their own and can be revoked" in privacy


def test_privacy_cookies_are_the_essential_ones(privacy_html, privacy):
    assert f"<code>{settings.SESSION_COOKIE_NAME}</code>" in privacy_html
    assert f"<code>{settings.CSRF_COOKIE_NAME}</code>" in privacy_html
    assert "<code>cookie_consent</code>" in privacy_html
    assert "We don't use analytics, advertising or third-party tracking cookies" in privacy


def test_privacy_on_children_matches_signup(privacy):
    assert "confirm_age" in SignupSerializer().fields  # signup really asks
    assert "not meant for anyone under 18" in privacy
    assert "requires confirming that you are 18 or older" in privacy


def test_privacy_has_changes_and_contact_sections(privacy):
    assert "Changes to this policy" in privacy
    assert "new version number and effective date" in privacy


# --- Statements that depend on values in the code ---------------------------------------------------------------------


def _window(start: int, end: int) -> str:
    return f"{start:02d}:00 and {end:02d}:00"


@pytest.mark.parametrize("page_fixture", ["privacy", "terms"])
def test_quiet_hours_and_frequency_cap_match_the_code(page_fixture, request):
    page = request.getfixturevalue(page_fixture)
    assert f"between {_window(*quiet_hours.DEFAULT_WINDOW)}" in page
    assert set(quiet_hours.STATE_WINDOWS) == set(STATE_NAMES), "a new state window: name it in both documents"
    for state, (start, end) in quiet_hours.STATE_WINDOWS.items():
        assert STATE_NAMES[state] in page
        assert f"{start:02d}:00 to {end:02d}:00" in page
    cap = Business._meta.get_field("marketing_messages_per_day").default
    assert re.search(rf"\b{cap} marketing texts\b", page) or f"marketing texts to {cap} per subscriber" in page


@pytest.mark.parametrize("page_fixture", ["privacy", "terms"])
def test_every_stop_word_is_listed(page_fixture, request):
    page = request.getfixturevalue(page_fixture)
    for word in keywords.OPT_OUT_WORDS - {"stop all", "opt out"}:  # spelled-apart forms of STOPALL and OPTOUT
        assert re.search(rf"\b{word.upper()}\b", page), word


def test_terms_messaging_program_disclosures(terms_html, terms):
    program = _text(terms_html.split('id="messaging"', 1)[1].split("<h2", 1)[0])
    assert replies.FREQUENCY in program  # "Msg frequency varies."
    assert replies.RATES in program  # "Msg & data rates may apply."
    assert "Reply STOP to cancel." in program
    assert "Reply HELP for help." in program
    assert "Carriers are not liable for delayed or undelivered messages." in program
    assert "START" in program and "INFO" in program
    assert "Consent to receive texts is not a condition of any purchase." in program
    for word in keywords.HELP_WORDS | {"start"}:
        assert word.upper() in program


def test_terms_acceptable_use_and_compliance(terms):
    assert "consent-based messaging only" in terms
    assert "No purchased, rented, shared or scraped lists." in terms
    assert "Honour STOP." in terms
    assert "TCPA" in terms and "CTIA" in terms
    assert "Compliance with the law is your responsibility." in terms
    assert "enforces opt-outs at once" in terms


def test_terms_cover_accounts_fees_suspension_liability_changes_contact(terms):
    assert "You must be 18 or older to create an account" in terms
    assert "must be accurate" in terms
    assert "card numbers never touch NextAlerts" in terms
    assert "STOP and HELP replies to its subscribers are still handled" in terms
    assert "Warranties and liability" in terms
    assert "Changes to these terms" in terms
    assert "Contact us" in terms


# --- Contact ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "_path"), PAGES)
def test_contact_placeholder_is_marked_until_the_operator_sets_its_own(name, _path, settings):
    page = _text(_get(name).content.decode())
    assert policy.PLACEHOLDER_CONTACT_EMAIL == "privacy@nextalerts.example"
    assert "privacy@nextalerts.example" in page
    assert "This address is a placeholder." in page

    settings.PRIVACY_CONTACT_EMAIL = "privacy@operator.test"
    page = _text(_get(name).content.decode())
    assert "privacy@operator.test" in page
    assert "nextalerts.example" not in page
    assert "placeholder" not in page


# --- Linked from the consumer pages -----------------------------------------------------------------------------------


def _assert_links_both_documents(response):
    hrefs = _hrefs(response)
    for name in ("privacy", "terms"):
        assert reverse(name) in hrefs
        assert Client().get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_the_qr_landing_page_links_both_documents(tenant_a):
    code = tracking_services.qr_code_create(
        business=tenant_a.business, number=tenant_a.number, keyword=tenant_a.keyword, label="Front door"
    )
    response = Client().get(reverse("qr-scan", args=[code.slug]), HTTP_USER_AGENT=DESKTOP)
    assert response.status_code == 200
    _assert_links_both_documents(response)


@pytest.mark.django_db
def test_the_join_page_links_both_documents(tenant_a):
    assert (webform.PRIVACY_URL, webform.TERMS_URL) == (reverse("privacy"), reverse("terms"))
    response = Client().get(reverse("join", args=[tenant_a.business.slug]))
    assert response.status_code == 200
    _assert_links_both_documents(response)
