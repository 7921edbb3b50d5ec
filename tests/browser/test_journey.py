"""A new business owner's first hour, in a real browser: sign up, add a number and a keyword, have a customer join
from the phone simulator, send a campaign and watch it go out, see a STOP on the customer's timeline — and a second
business that cannot open any of it. Screenshots of every main page are saved as test artifacts."""

import re

import pytest
from selenium.webdriver.common.by import By

from campaigns.models import Campaign
from consent.models import Suppression
from messaging.models import Message
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+12025550100"
CUSTOMER = "+12025550123"


@pytest.fixture(autouse=True)
def _local_demo(settings):
    """As under `make run`: DEBUG on (the simulator is shown), texts through the in-memory backend."""
    settings.DEBUG = True
    settings.SMS_BACKEND = "locmem"


def sign_up(browser, *, business, email):
    browser.open("/signup/")
    browser.fill("Business name", business)
    browser.fill("Email address", email)
    browser.fill("Password", "correct horse battery 42")
    browser.check("I am 18 or older")
    browser.check("I accept the terms")
    browser.press("Create account")
    browser.wait_for_text("Overview")


def test_first_hour_of_a_business_owner(browser, daytime, fake_openai):
    sign_up(browser, business="Tony's Pizza", email="tony@example.com")
    assert browser.path == "/app/"
    browser.screenshot("overview, first run")

    # A number and a keyword.
    browser.follow("Numbers & keywords")
    browser.press("Add a number")
    browser.fill("Phone number", NUMBER)
    browser.press("Add number")
    browser.wait_for_text("(202) 555-0100")  # NUMBER, as pages write it
    browser.press("Add a keyword")
    browser.fill("Keyword", "PIZZA")
    browser.press("Add keyword")
    browser.wait_for_text("PIZZA")
    browser.screenshot("numbers and keywords")

    # A customer joins by texting the keyword from the simulator; the confirmation shows on the pretend phone.
    browser.follow("Phone simulator")
    browser.fill("Customer's phone", CUSTOMER)
    browser.press("PIZZA")
    browser.wait_for_text("STOP to cancel")
    browser.screenshot("simulator, joined")
    assert Subscriber.objects.get(phone_number=CUSTOMER).status == Subscriber.Status.SUBSCRIBED

    browser.follow("Subscribers")
    browser.wait_for_text("202")
    assert re.search(r"\(202\) 555-0123|202-555-0123|\+12025550123", browser.text())
    browser.screenshot("subscribers")

    # A campaign, sent now, watched on its results page.
    browser.follow("Campaigns")
    browser.press("New campaign")
    browser.fill("Name", "Friday special")
    # Drafts written by the (fake) OpenAI server, checked, one of them put in the message box.
    browser.driver.find_element(By.CSS_SELECTOR, ".write-for-me summary").click()
    browser.fill("What is the text about?", "2 large pizzas for $20 this Friday, families")
    browser.press("Write drafts")
    browser.wait_for_text("Use this draft")
    browser.screenshot("campaign drafts")
    browser.press("Use this draft")
    assert "Tony's Pizza" in browser.field("Message").get_attribute("value")
    browser.fill("Message", "Tony's Pizza: 2 large pizzas for $20 this Friday! Reply STOP to opt out")
    browser.wait_for_text("1 segment")
    browser.screenshot("campaign compose")
    browser.press("Send now")
    browser.press("Send it now")  # the confirmation: audience, cost, quiet hours
    browser.wait_for_text("Delivered", timeout=15)
    campaign = Campaign.objects.get(name="Friday special")
    assert browser.path == f"/app/campaigns/{campaign.pk}/"
    sent = Message.objects.filter(campaign=campaign)
    assert [m.phone_number for m in sent] == [CUSTOMER]
    assert sent.get().status in (Message.Status.SENT, Message.Status.DELIVERED)
    browser.screenshot("campaign results")

    # STOP from the simulator, then the timeline shows it.
    browser.follow("Phone simulator")
    browser.fill("Customer's phone", CUSTOMER)
    browser.press("STOP")
    browser.wait_for_text("unsubscribed")
    assert Suppression.objects.filter(business=campaign.business).count() == 1
    browser.follow("Subscribers")
    browser.driver.find_element(By.PARTIAL_LINK_TEXT, "555-0123").click()
    browser.wait_for_text("Unsubscribed · by text")
    browser.screenshot("subscriber timeline after STOP")

    for section in ("Inbox", "QR codes", "Compliance", "Settings"):
        browser.follow(section)
        browser.screenshot(section)
    for label, path in (("plan and usage", "/app/settings/billing/"), ("your data", "/app/settings/data/"),
                        ("team", "/app/settings/team/"), ("api tokens", "/app/settings/tokens/")):  # fmt: skip
        browser.open(path)
        browser.screenshot(label)
    browser.driver.set_window_size(390, 844)  # a phone
    browser.open("/app/")
    browser.screenshot("overview on a phone")


def test_another_business_cannot_open_the_first_ones_pages(browser, daytime, settings):
    sign_up(browser, business="Tony's Pizza", email="tony@example.com")
    browser.follow("Numbers & keywords")
    browser.press("Add a number")
    browser.fill("Phone number", NUMBER)
    browser.press("Add number")
    browser.wait_for_text("(202) 555-0100")
    browser.press("Add a keyword")
    browser.fill("Keyword", "PIZZA")
    browser.press("Add keyword")
    browser.wait_for_text("PIZZA")
    browser.follow("Phone simulator")
    browser.fill("Customer's phone", CUSTOMER)
    browser.press("PIZZA")
    browser.wait_for_text("STOP to cancel")
    subscriber = Subscriber.objects.get(phone_number=CUSTOMER)
    number = subscriber.business.numbers.get()
    keyword = number.keywords.get()
    tonys = [
        f"/app/subscribers/{subscriber.pk}/",
        f"/app/numbers/{number.pk}/edit/",
        f"/app/keywords/{keyword.pk}/edit/",
    ]

    browser.forget_session()
    settings.DEBUG = False  # the 404 page a production user sees
    sign_up(browser, business="Gym Nine", email="coach@example.com")
    for path in tonys:
        browser.open(path)
        assert browser.title().startswith("Page not found"), path
        assert CUSTOMER not in browser.text() and "555-0123" not in browser.text()
    browser.screenshot("other business, not found")
    browser.open("/app/subscribers/")
    assert "555-0123" not in browser.text()
