"""In the browser: "Send now" asks first, with who gets the text, what it costs and who waits for quiet hours; once
sent, the campaign page, the campaigns list and the overview say "Sending" with what the texts wait for, not "Sent"."""

from datetime import UTC, datetime

import pytest
import time_machine

from campaigns.models import Campaign
from tests.helpers import text_in

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK, WASHINGTON, CALIFORNIA = "+12125550143", "+12025550143", "+13105550143"


@pytest.fixture(autouse=True)
def _local(settings):
    settings.SMS_BACKEND = "locmem"


@pytest.fixture
def east_coast_morning():
    """Today at 14:30 UTC, the clock running: morning in New York and Washington, before 08:00 in California (in
    winter and in summer alike)."""
    today = datetime.now(UTC).date()
    with time_machine.travel(datetime(today.year, today.month, today.day, 14, 30, tzinfo=UTC), tick=True):
        yield


def test_send_now_asks_first_and_the_pages_say_what_is_still_waiting(browser, tenant_a, east_coast_morning):
    for phone in (NEW_YORK, WASHINGTON, CALIFORNIA):
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text=tenant_a.keyword.keyword)
    browser.log_in(tenant_a.admin.user)

    browser.follow("Campaigns")
    browser.press("New campaign")
    browser.fill("Name", "Morning special")
    browser.fill("Message", "Tony's Pizza: 2 for 1 slices until noon! Reply STOP to opt out")
    browser.wait_for_text("1 segment")
    browser.press("Send now")

    browser.wait_for_text("Send it now")
    campaign = Campaign.objects.get(name="Morning special")
    assert browser.path == f"/app/campaigns/{campaign.pk}/launch/"
    assert campaign.status == Campaign.Status.DRAFT  # nothing sent before the confirmation
    summary = browser.text()
    assert "Everyone who is subscribed" in summary
    assert "3 people" in summary
    assert "1 segment, GSM-7" in summary
    assert "1 of them is in quiet hours right now" in summary
    assert "1 at " in summary and "11:00 AM" in summary  # 08:00 in California, on the business's New York clock
    browser.screenshot("send now confirmation")

    browser.press("Send it now")
    browser.wait_for_text("Sending — 1 waiting for quiet hours to end", timeout=15)
    assert browser.path == f"/app/campaigns/{campaign.pk}/"
    browser.screenshot("campaign sending, one waiting")

    browser.follow("All campaigns")
    browser.wait_for_text("Sending — 1 waiting for quiet hours to end")
    browser.screenshot("campaigns list, one waiting")

    browser.follow("Overview")
    browser.wait_for_text("Latest campaigns")
    assert "Sending — 1 waiting for quiet hours to end" in browser.text()
    assert "Sent " not in browser.text().split("Latest campaigns", 1)[1]
    browser.screenshot("overview, one waiting")
