"""In the browser, a business called Flowers reads its pages as people write: numbers in national form for its own
country and international form for others, no "Flowers's", no "p.m.." after a time."""

import pytest

from subscribers.models import Subscriber
from tests.dashboard.test_formats_everywhere import problems
from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory
from tests.helpers import text_in

pytestmark = pytest.mark.django_db(transaction=True)

HOME = "+12025550143"
ABROAD = "+442079460958"


def test_a_florist_reads_numbers_names_and_times_as_people_write_them(browser):
    owner = MembershipFactory(business__name="Flowers")
    business = owner.business
    number = SenderNumberFactory(business=business, phone_number="+14155550100")
    KeywordFactory(number=number, keyword="BLOOM")
    for phone, text in ((HOME, "BLOOM"), (HOME, "Open Sunday?"), (ABROAD, "BLOOM"), (ABROAD, "STOP")):
        text_in(from_number=phone, to_number=number.phone_number, text=text)
    stopped = Subscriber.objects.get(business=business, phone_number=ABROAD)

    browser.log_in(owner.user)
    seen = {}
    for path, expected in (
        ("/app/subscribers/", ["(202) 555-0143", "+44 20 7946 0958"]),
        (f"/app/subscribers/{stopped.pk}/", ["+44 20 7946 0958", ", so nothing can be sent to them"]),
        ("/app/inbox/", ["(202) 555-0143", "to (415) 555-0100"]),
        ("/app/numbers/", ["(415) 555-0100"]),
        ("/app/compliance/do-not-text/", ["+44 20 7946 0958"]),
        ("/app/settings/tokens/", ["Flowers' account"]),
    ):
        browser.open(path)
        browser.wait_for_text(expected[0])
        text = browser.text()
        for words in expected:
            assert words in text, (path, words)
        seen[path] = problems(text)
        browser.screenshot(f"formats {path}")
    assert seen == {path: [] for path in seen}
