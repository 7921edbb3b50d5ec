"""In a real browser: an admin is told while the links the product builds point at this machine only."""

import pytest

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_sees_that_links_on_a_loopback_address_reach_no_phone(browser, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8100"
    owner = MembershipFactory(business__name="Tony's Pizza", role="owner")
    browser.log_in(owner.user)
    notice = browser.text()
    assert "Links point at http://127.0.0.1:8100, which only this computer can open" in notice
    assert "make run HOST=0.0.0.0" in notice
    browser.screenshot("overview warning about a loopback address")

    settings.PUBLIC_BASE_URL = "https://alerts.example.com"
    browser.open("/app/")
    assert "which only this computer can open" not in browser.text()
