"""In a real browser: the privacy policy's California section is reachable from its contents, and a QR code's
desktop page and the sign-up page tell people, before they join, that links in the texts are counted."""

import importlib
from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps

from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory
from tracking import services as tracking_services

pytestmark = pytest.mark.django_db(transaction=True)
SENTENCE = "Links in our texts are shortened so we can count clicks."


@pytest.fixture
def after_version_2():
    # The policy documents are rows the migrations publish, and live-server tests before this one flush the
    # database: publish them again, as the migrations do (each step is safe to run twice).
    for name in ("0002_policy_documents_v1", "0003_privacy_policy_v2"):
        migration = importlib.import_module(f"privacy.migrations.{name}")
        migration.seed(apps, None)
    with time_machine.travel(datetime(2026, 12, 10, 17, 0, tzinfo=UTC), tick=True):
        yield


def test_a_californian_finds_their_rights_and_a_subscriber_is_told_about_link_tracking(browser, after_version_2):
    browser.open("/privacy/")
    browser.follow("California residents")
    browser.wait_for_text("Right to non-discrimination")
    assert browser.driver.current_url.endswith("/privacy/#california")
    text = browser.text()
    assert "we do not sell or share personal information" in text and "Authorised agents" in text
    browser.screenshot("privacy california")

    owner = MembershipFactory(business__name="Bella Realty", role="owner")
    number = SenderNumberFactory(business=owner.business)
    keyword = KeywordFactory(number=number, keyword="HOMES")
    code = tracking_services.qr_code_create(business=owner.business, number=number, keyword=keyword, label="Sign")
    browser.open(f"/q/{code.slug}")
    browser.wait_for_text("Join Bella Realty text alerts")
    assert SENTENCE in browser.text()
    browser.screenshot("qr desktop page")

    browser.open(f"/join/{owner.business.slug}/")
    browser.wait_for_text("Get Bella Realty text alerts")
    assert SENTENCE in browser.text()
    browser.screenshot("sign-up page")
