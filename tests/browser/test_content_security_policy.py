"""The pages under their Content-Security-Policy in a real browser: nothing is blocked (Chromium says so in its
console when it blocks), the scripts still work, and markup someone slipped into the data would not run anyway.
"""

import pytest
from selenium.webdriver.common.by import By

from accounts.models import Role
from campaigns.models import Campaign
from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory
from tracking.models import QRCode

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_check_sees_what_the_policy_blocks(browser):
    browser.open("/login/")
    assert browser.policy_errors() == []
    # What an injected handler would do: an inline script and a style attribute added to the page are refused.
    browser.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.appendChild(s);"
    )
    assert browser.driver.execute_script("return window.ran") is None
    assert any("Content Security Policy" in error for error in browser.policy_errors())


def test_the_main_pages_run_under_the_policy(browser):
    owner = MembershipFactory(business__name="Tony's Pizza", role=Role.OWNER)
    business = owner.business
    number = SenderNumberFactory(business=business)
    keyword = KeywordFactory(number=number, keyword="PIZZA")
    qr = QRCode.objects.create(business=business, number=number, keyword=keyword, label="Front window")
    campaign = Campaign.objects.create(business=business, name="Friday", body="2 for 1 on Friday", sender_number=number)

    public = ["/", "/privacy/", "/terms/", "/cookies/", f"/join/{business.slug}/", f"/q/{qr.slug}", "/t/nothing"]
    for path in public:
        browser.open(path)
        assert browser.policy_errors() == [], path

    # Swagger UI draws the operations under the same policy, from its split start-up script.
    browser.open("/api/docs/")
    browser.wait_for_text("/api/v1/subscribers/", timeout=20)
    assert browser.policy_errors() == []

    browser.log_in(owner.user)
    dashboard = [
        "/app/", "/app/campaigns/", "/app/campaigns/new/", f"/app/campaigns/{campaign.pk}/", "/app/subscribers/",
        "/app/inbox/", "/app/numbers/", "/app/numbers/help-reply/", "/app/keywords/new/", "/app/qr-codes/",
        f"/app/qr-codes/{qr.pk}/", "/app/settings/", "/app/settings/team/", "/app/settings/tokens/",
        "/app/settings/billing/", "/app/settings/data/", "/app/settings/account/", "/app/compliance/",
    ]  # fmt: skip
    for path in dashboard:
        browser.open(path)
        assert browser.policy_errors() == [], path

    # The composer's script runs: the character counter answers what is typed.
    browser.open("/app/campaigns/new/")
    browser.fill("Message", "Hello")
    browser.wait_for_text("5 characters")

    # A new token's field selects itself when it gets focus (a handler in dashboard.js, no onfocus attribute).
    browser.open("/app/settings/tokens/")
    browser.fill("Name", "Till")
    browser.press("Create")
    field = browser.driver.find_element(By.ID, "token-secret")
    browser.driver.find_element(By.TAG_NAME, "h1").click()
    field.click()
    selected = browser.driver.execute_script(
        "const f = document.getElementById('token-secret'); return f.selectionEnd - f.selectionStart;"
    )
    assert selected == len(field.get_attribute("value"))
    assert browser.policy_errors() == []
