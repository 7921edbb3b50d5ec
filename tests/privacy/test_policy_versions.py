"""Version 2 of the privacy policy, published by a migration as a non-material change: a section for California
residents (CCPA) naming the rights the code provides, and where link tracking is disclosed; version 1 stays as it
was."""

import datetime
import html
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from privacy import policy
from privacy.models import DataRequest, PolicyDocument, PolicyNotice

pytestmark = pytest.mark.django_db
AFTER = datetime.datetime(2026, 12, 10, 12, 0, tzinfo=datetime.UTC)
BEFORE = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _california(markup: str) -> str:
    return _text(markup.split('id="california"', 1)[1].split("<h2", 1)[0])


@pytest.fixture
def page():
    with time_machine.travel(AFTER, tick=False):
        return Client().get("/privacy/").content.decode()


def test_version_2_is_published_without_notices_and_in_force_from_its_date():
    document = PolicyDocument.objects.get(kind="privacy", version=2)

    assert document.published_at is not None and not document.material
    assert document.template_name == "privacy/privacy_v2.html" and "California" in document.changes
    assert not PolicyNotice.objects.exists()
    with time_machine.travel(AFTER, tick=False):
        assert policy.policy_current(kind="privacy") == document
    with time_machine.travel(BEFORE, tick=False):
        assert policy.policy_current(kind="privacy").version == 1
        announced = _text(Client().get("/privacy/").content.decode())
        assert "A new version takes effect on 3 December 2026" in announced


def test_the_california_section_names_each_right_and_how_to_use_it(page, settings):
    settings.PRIVACY_CONTACT_EMAIL = "privacy@tonys-host.example"
    with time_machine.travel(AFTER, tick=False):
        page = Client().get("/privacy/").content.decode()
    section = _california(page)

    assert 'href="#california">California residents</a>' in page
    for words in [
        "California Consumer Privacy Act",
        "Right to know and access",
        "Right to delete",
        "Right to correct",
        "we do not sell or share personal information",
        "Right to non-discrimination",
        "How to make a request",
        "Authorised agents",
        "signed permission",
        "45 days",
        "privacy@tonys-host.example",
    ]:
        assert words in section, words


def test_the_rights_it_describes_exist_in_the_product(page, tenant_a):
    section = _california(page)

    # Access and deletion requests, for subscribers and customers alike, are what the admin's data requests handle.
    assert {DataRequest.Kind.ACCESS, DataRequest.Kind.DELETION} == set(DataRequest.Kind)
    assert {DataRequest.Subject.PHONE, DataRequest.Subject.BUSINESS} == set(DataRequest.Subject)
    # Customers export and delete from Settings → Your data.
    assert "Settings → Your data" in section
    client = Client()
    client.force_login(tenant_a.owner.user)
    settings_page = client.get(reverse("dashboard:settings")).content.decode()
    assert f'<a href="{reverse("dashboard:data")}">Your data</a>' in settings_page
    data_page = client.get(reverse("dashboard:data")).content.decode()
    assert f'action="{reverse("dashboard:data-export")}"' in data_page
    assert f'action="{reverse("dashboard:data-delete")}"' in data_page
    # Requests record how they came in and were verified (agents included).
    assert DataRequest._meta.get_field("note").help_text == "How the request came in and was verified."


def test_it_says_where_link_tracking_is_disclosed(page):
    clicks = _text(re.search(r"<li><strong>Link clicks</strong>(.*?)</li>", page, re.S).group(1))

    assert "sign-up page and its QR code's page say so before you join" in clicks


def test_version_1_is_unchanged_and_still_readable():
    with time_machine.travel(AFTER, tick=False):
        earlier = Client().get("/privacy/v1/").content.decode()

    assert "This is an earlier version." in _text(earlier)
    assert 'id="california"' not in earlier
    assert PolicyDocument.objects.get(kind="privacy", version=1).template_name == "privacy/privacy.html"
