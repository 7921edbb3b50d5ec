"""In a real browser: an opt-out the product understood from plain language shows in the inbox, flagged."""

import pytest

from tests.helpers import text_in

pytestmark = pytest.mark.django_db(transaction=True)

CONSUMER = "+12025550143"


def test_the_inbox_shows_how_a_plain_language_opt_out_was_understood(browser, tenant_a):
    for text in ("JOIN", "please stop texting me", "STOP", "What time do you close?"):
        text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text=text)
    browser.log_in(tenant_a.admin.user)
    browser.open("/app/inbox/")
    page = browser.text()
    assert "Opted out: understood \u2018please stop texting me\u2019 as STOP" in page
    assert "What time do you close?" in page
    # The bare STOP was handled as the keyword it is, and is not listed.
    assert "\nSTOP\n" not in page
    assert "A reply will not be sent" in page
    browser.screenshot("inbox with an understood opt-out flagged")
