"""The home page and the API reference in a real browser: a visitor reads what the product does, a developer
follows the footer's link to a reference that renders from the app's own files, and an owner finds their way back
to the dashboard."""

import pytest
from selenium.webdriver.common.by import By

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_reads_the_home_page_and_a_developer_opens_the_api_reference(browser):
    browser.open("/")
    browser.wait_for_text("Text alerts your customers asked for")
    text = browser.text()
    assert "Create a free account" in text and "Log in" in text
    assert "Real-estate agents and teams" in text
    browser.screenshot("home")

    browser.follow("API reference")
    # Swagger UI draws the operations from /api/schema/ with its own script: served here, not from a CDN.
    browser.wait_for_text("/api/v1/subscribers/", timeout=20)
    assert browser.path == "/api/docs/"
    assert "NextAlerts API" in browser.text()
    scripts = [s.get_attribute("src") for s in browser.driver.find_elements(By.CSS_SELECTOR, "script[src]")]
    # Its files from our static files, its start-up script from the view itself (a file, for the CSP: not inline).
    ours = (browser.base_url + "/static/", browser.base_url + "/api/docs/?script")
    assert scripts and all(src.startswith(ours) for src in scripts), scripts
    browser.screenshot("api reference", check=False)  # Swagger UI's own markup, not ours


def test_an_owner_logged_in_goes_from_the_home_page_to_the_dashboard(browser):
    owner = MembershipFactory(business__name="Tony's Pizza", role="owner")
    browser.log_in(owner.user)

    browser.open("/")
    browser.wait_for_text("Logged in as")
    assert "Tony's Pizza" in browser.text()
    browser.follow("Go to your dashboard")
    browser.wait_for_text("Overview")
    assert browser.path == "/app/"
    browser.open("/app/settings/tokens/")
    browser.follow("API reference")
    browser.wait_for_text("/api/v1/campaigns/", timeout=20)
