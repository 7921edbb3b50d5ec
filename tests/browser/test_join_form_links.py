"""The sign-up page in a real browser: an owner copies its address from Numbers & keywords, points its terms and
privacy links at the business's own pages in Settings, and a consumer opening it sees the business and those links."""

import pytest
from selenium.webdriver.common.by import By

from tests.factories import MembershipFactory, SenderNumberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_copies_the_sign_up_address_and_links_their_own_terms(browser, settings, live_server):
    settings.PUBLIC_BASE_URL = live_server.url
    owner = MembershipFactory(business__name="Bella Realty", role="owner")
    SenderNumberFactory(business=owner.business)
    browser.log_in(owner.user)

    browser.open("/app/numbers/")
    address = browser.driver.find_element(By.ID, "join-url").get_attribute("value")
    assert address == f"{live_server.url}/join/{owner.business.slug}/"
    browser.press("Copy")
    browser.wait_for_text(f"Copied: {address}")
    browser.screenshot("numbers with sign-up address")

    browser.open("/app/settings/")
    browser.fill("Your terms page", "bella.example/terms")
    browser.fill("Your privacy policy", "javascript:alert(1)")
    browser.press("Save changes")
    browser.wait_for_text("Enter a web address starting with https://")
    browser.fill("Your privacy policy", "https://bella.example/privacy")
    browser.press("Save changes")
    browser.wait_for_text("Your business details were saved.")
    browser.screenshot("settings with own pages")

    browser.forget_session()
    browser.driver.get(address)
    browser.wait_for_text("Get Bella Realty text alerts")
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == "Bella Realty"
    links = {a.text: a.get_attribute("href") for a in browser.driver.find_elements(By.CSS_SELECTOR, "#disclosure a")}
    assert links == {"Terms": "https://bella.example/terms", "Privacy Policy": "https://bella.example/privacy"}
    browser.screenshot("sign-up page")
