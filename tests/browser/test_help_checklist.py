"""The HELP reply's checklist in the browser ticks off exactly what the server then accepts or refuses."""

import pytest
from selenium.webdriver.common.by import By

from consent import replies
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

DISCLOSURES = "Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel."


@pytest.mark.parametrize("contacts", [{}, {"support_contact": "help@tonys.example", "phone": "(415) 555-0100"}])
def test_the_checklist_agrees_with_the_server(browser, contacts):
    admin = MembershipFactory(business__name="Tony's Pizza", role="admin")
    business = admin.business
    business.support_contact, business.phone = contacts.get("support_contact", ""), contacts.get("phone", "")
    business.save()
    name = business.name
    texts = [
        f"{name}: help@tonys.example. {DISCLOSURES}",
        f"{name}: call +1 415 555 0100. {DISCLOSURES}",
        f"{name}: call 415.555.0100. {DISCLOSURES}",
        f"{name}: www.tonys.example. {DISCLOSURES}",
        f"{name}: ask in the shop. {DISCLOSURES}",
        f"{name}: help@tonys.example. message and data rates may apply. msgs freq. varies. STOP",
        f"{name}: help@tonys.example. Msg frequency varies. Msg & data rates may apply. stop",
        f"Someone: help@tonys.example. {DISCLOSURES}",
        f"{name}: help@tonys.example. {DISCLOSURES}" + "!" * 300,
    ]
    browser.log_in(admin.user)
    browser.open("/app/numbers/help-reply/")
    box = browser.driver.find_element(By.CSS_SELECTOR, "[data-text-check]")
    field = browser.driver.find_element(By.ID, box.get_attribute("data-target"))

    ticked = []
    for text in texts:
        # Set the text as one edit, then let the page hear it as typing.
        browser.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", field, text
        )
        ticked.append(len(box.find_elements(By.CSS_SELECTOR, "li.missing")))

    assert ticked == [len(replies.help_text_problems(text, business=business)) for text in texts]
    browser.screenshot("help reply checklist")
