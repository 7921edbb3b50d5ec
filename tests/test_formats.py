"""Phone numbers and names as pages write them: the `phone` and `possessive` template filters, and the country the
current business's numbers are shown for."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from accounts.selectors import business_region
from nextalerts import phones
from tests.helpers import text_in


@pytest.mark.parametrize(
    ("number", "region", "shown"),
    [
        ("+12025550143", "US", "(202) 555-0143"),  # the business's own country: national form
        ("+442079460958", "US", "+44 20 7946 0958"),  # another country: international form
        ("+442079460958", "GB", "020 7946 0958"),
        ("+12025550143", "GB", "+1 202-555-0143"),
        ("+15555550100", "US", "(555) 555-0100"),  # a 555 demo number is still American
        ("", "US", ""),  # blank, erased: unchanged, so |default still applies
        (None, "US", None),
        ("front desk", "US", "front desk"),  # typed freely (a business's contact): unchanged
        ("+1", "US", "+1"),
    ],
)
def test_phone_display(number, region, shown):
    assert phones.phone_display(number, region=region) == shown


def test_the_filter_uses_the_active_region_and_escapes_what_is_not_a_number():
    template = Template("{{ a|phone }} / {{ b|phone }} / {{ c|phone|default:'erased' }}")
    context = Context({"a": "+442079460958", "b": "<b>", "c": ""})
    assert template.render(context) == "+44 20 7946 0958 / &lt;b&gt; / erased"
    phones.activate_region("GB")
    try:
        assert template.render(context).startswith("020 7946 0958 / ")
    finally:
        phones.deactivate_region()


def test_the_region_is_found_only_when_a_number_is_shown():
    calls = []
    phones.activate_region(lambda: calls.append(1) or "GB")
    try:
        assert calls == []
        assert phones.phone_display("+442079460958") == "020 7946 0958"
        assert phones.phone_display("+442079460959") == "020 7946 0959"
        assert calls == [1]
    finally:
        phones.deactivate_region()
    assert phones.current_region() == "US"


@pytest.mark.parametrize(
    ("name", "written"),
    [("Flowers", "Flowers'"), ("Tony's Pizza", "Tony&#x27;s Pizza's"), ("BOSS", "BOSS'"), ("<i>Ann", "&lt;i&gt;Ann's")],
)
def test_possessive(name, written):
    assert Template("{{ name|possessive }}").render(Context({"name": name})) == written


def test_a_business_country_is_its_own_number_then_its_sending_number(tenant_a):
    business = tenant_a.business
    assert business_region(business=business) == "US"  # the tenant's number is a +1 415 number
    business.phone = "+44 20 7946 0958"
    assert business_region(business=business) == "GB"
    business.phone = "call us"
    tenant_a.number.phone_number = "+442079460958"
    tenant_a.number.save()
    assert business_region(business=business) == "GB"
    tenant_a.number.delete()
    assert business_region(business=business) == "US"


def test_a_uk_business_sees_uk_numbers_in_national_form_and_us_numbers_in_international_form(client, tenant_a):
    tenant_a.business.phone = "+442079460958"
    tenant_a.business.save()
    text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text="Are you open?")
    client.force_login(tenant_a.member.user)
    html = client.get(reverse("dashboard:inbox")).content.decode()
    assert "+1 202-555-0143" in html
    tenant_a.business.phone = "+12025550100"
    tenant_a.business.save()
    html = client.get(reverse("dashboard:inbox")).content.decode()
    assert "(202) 555-0143" in html and "+1 202-555-0143" not in html
