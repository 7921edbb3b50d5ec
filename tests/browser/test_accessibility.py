"""Keyboard and screen-reader basics of the dashboard, in the browser."""

import pytest
from selenium.webdriver.common.keys import Keys

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_tab_stop_skips_to_the_content_and_the_sidebar_follows(browser):
    owner = MembershipFactory(business__name="Gym Nine").user
    browser.log_in(owner)
    body = browser.driver.switch_to.active_element
    body.send_keys(Keys.TAB)
    skip = browser.driver.switch_to.active_element
    assert skip.text == "Skip to content"
    skip.send_keys(Keys.ENTER)
    assert browser.driver.switch_to.active_element.get_attribute("id") == "main"

    # Every sidebar section is reachable with Tab alone.
    browser.open("/app/")
    reached = []
    for _ in range(40):
        browser.driver.switch_to.active_element.send_keys(Keys.TAB)
        reached.append(browser.driver.switch_to.active_element.text)
    for section in ("Overview", "Subscribers", "Inbox", "Campaigns", "Settings"):
        assert section in reached


def test_the_page_check_finds_an_unlabelled_field(browser):
    """The accessibility check the journey runs on every page can fail."""
    browser.open("/login/")
    assert browser.accessibility_problems() == []
    browser.driver.execute_script("document.querySelector('form').appendChild(document.createElement('input'))")
    assert any(problem.startswith("no label") for problem in browser.accessibility_problems())
