"""A new business owner's rough edges, in a real browser: the support contact at sign-up and the to-do and HELP
checklist flag without one, the only owner's disabled Leave, the warning before the log-in lock, and Settings →
Your account (name, email through the emailed link, password)."""

import re

import pytest
from django.core import mail
from selenium.webdriver.common.by import By

from accounts.models import Business, User
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery 42"
NEW_PASSWORD = "plum orbit kettle 2931"


def _sign_up(browser, *, business, email, support_contact=""):
    browser.open("/signup/")
    browser.fill("Business name", business)
    if support_contact:
        browser.fill("Support contact", support_contact)
    browser.fill("Email address", email)
    browser.fill("Password", PASSWORD)
    browser.check("I am 18 or older")
    browser.check("I accept the terms")
    browser.press("Create account")
    browser.wait_for_text(f"{business} is ready")


def test_sign_up_with_a_support_contact_and_without_one(browser):
    _sign_up(browser, business="Ana's Bakery", email="ana@example.com", support_contact="help@anasbakery.example")
    assert Business.objects.get(name="Ana's Bakery").support_contact == "help@anasbakery.example"
    assert "Add a support contact" not in browser.text()
    browser.screenshot("overview with a support contact")

    browser.forget_session()
    _sign_up(browser, business="Bo's Bikes", email="bo@example.com")
    assert "Add a support contact: HELP replies must say how to reach you" in browser.text()
    browser.screenshot("overview asking for a support contact")

    # The HELP checklist says the standard reply has no way to reach them, also for a blank box.
    browser.open("/app/numbers/help-reply/")
    assert "You have no support contact or phone number in Settings" in browser.text()
    box = browser.driver.find_element(By.CSS_SELECTOR, "[data-text-check]")
    field = browser.driver.find_element(By.ID, box.get_attribute("data-target"))
    browser.driver.execute_script("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'));", field)
    missing = [item.text for item in box.find_elements(By.CSS_SELECTOR, "li.missing")]
    assert missing == [item for item in missing if "A way to reach you" in item] and len(missing) == 1
    browser.screenshot("help reply flags the missing contact")

    # The to-do's link leads to the field in Settings; once it is filled the to-do is gone.
    browser.open("/app/")
    browser.follow("Add a support contact in Settings")
    browser.wait_for_text("Business details")
    browser.fill("Support contact", "(415) 555-0100")
    browser.press("Save changes")
    browser.wait_for_text("Your business details were saved")
    browser.open("/app/")
    browser.wait_for_text("Subscribers now")
    assert "Add a support contact" not in browser.text()


def test_the_only_owner_cannot_leave_and_the_login_warns_before_the_lock(browser):
    owner = MembershipFactory(business__name="Tony's Pizza", role="owner")
    MembershipFactory(business=owner.business, role="member")
    browser.log_in(owner.user, PASSWORD)

    browser.open("/app/settings/team/")
    leave = [b for b in browser.driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Leave"]
    assert len(leave) == 1 and not leave[0].is_enabled()
    assert "You are the only owner: make someone else owner first" in browser.text()
    browser.screenshot("team with the only owner's leave disabled")

    browser.forget_session()
    for _ in range(4):
        browser.open("/login/")
        browser.fill("Email address", owner.user.email)
        browser.fill("Password", "wrong password")
        browser.press("Log in")
        browser.wait_for_text("don't match")
    assert "One more wrong password locks logging in for 15 minutes." in browser.text()
    browser.screenshot("login warning before the lock")


def test_your_account_changes_the_name_email_and_password(browser):
    member = MembershipFactory(business__name="Tony's Pizza", role="member", user__email="sam@example.com")
    browser.log_in(member.user, PASSWORD)
    browser.open("/app/settings/")
    browser.follow("Your account")
    browser.wait_for_text("Your name")
    browser.screenshot("your account")

    browser.fill("Your name", "Sam Rivera")
    browser.press("Save name")
    browser.wait_for_text("Your name was saved")
    assert User.objects.get(pk=member.user.pk).full_name == "Sam Rivera"

    browser.fill("New email address", "sam.rivera@example.com")
    browser.fill("Current password", PASSWORD)
    browser.press("Send the confirmation link")
    browser.wait_for_text("We sent a link to sam.rivera@example.com")
    confirm = next(message for message in mail.outbox if message.to == ["sam.rivera@example.com"])
    assert any(message.to == ["sam@example.com"] for message in mail.outbox)
    link = re.search(r"https?://\S+", confirm.body).group(0)
    browser.open(re.sub(r"^https?://[^/]+", "", link))
    browser.wait_for_text("Change the email you log in with")
    browser.screenshot("confirm the new email")
    browser.press("Change my email")
    browser.wait_for_text("Your email is now sam.rivera@example.com")
    assert User.objects.get(pk=member.user.pk).email == "sam.rivera@example.com"

    password_form = browser.driver.find_element(By.ID, "password-heading").find_element(By.XPATH, "..")
    password_form.find_element(By.NAME, "password-current_password").send_keys(PASSWORD)
    browser.fill("New password", NEW_PASSWORD)
    browser.fill("New password again", NEW_PASSWORD)
    browser.press("Change password")
    browser.wait_for_text("Your password was changed")
    browser.screenshot("password changed")
    # Still logged in here.
    browser.open("/app/settings/account/")
    browser.wait_for_text("sam.rivera@example.com")
    assert User.objects.get(pk=member.user.pk).check_password(NEW_PASSWORD)
