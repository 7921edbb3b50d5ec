"""The hosted sign-up form is easy to find: its absolute address (PUBLIC_BASE_URL) with a Copy button on the Numbers
& keywords page and the QR code pages, for every role, and always the business's own."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tracking import services


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _address(html: str) -> str:
    field = re.search(r'<input id="join-url"[^>]*value="([^"]*)"[^>]*readonly', html)
    assert field, "no sign-up page address on the page"
    assert 'data-copy="join-url"' in html
    return field.group(1)


def _pages(tenant):
    code = services.qr_code_create(
        business=tenant.business, number=tenant.number, keyword=tenant.keyword, label="Front door"
    )
    return [reverse("dashboard:numbers"), reverse("dashboard:qr-codes"), reverse("dashboard:qr-code", args=[code.pk])]


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_every_role_finds_the_sign_up_pages_absolute_address_with_a_copy_button(tenant_a, settings, role):
    settings.PUBLIC_BASE_URL = "https://alerts.example.com"
    client = _client(getattr(tenant_a, role))

    for page in _pages(tenant_a):
        response = client.get(page)
        assert response.status_code == 200, page
        assert _address(response.content.decode()) == f"https://alerts.example.com/join/{tenant_a.business.slug}/"


def test_the_address_shown_opens_the_businesss_own_form(tenant_a, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    address = _address(_client(tenant_a.owner).get(reverse("dashboard:numbers")).content.decode())

    response = Client().get(address)

    assert response.status_code == 200
    assert "<h1>Tony&#x27;s Pizza</h1>" in response.content.decode()


def test_each_business_sees_its_own_address_and_not_anothers_qr_code(tenant_a, tenant_b):
    b_code = services.qr_code_create(
        business=tenant_b.business, number=tenant_b.number, keyword=tenant_b.keyword, label="Yard sign"
    )
    client = _client(tenant_a.owner)

    for page in (reverse("dashboard:numbers"), reverse("dashboard:qr-codes")):
        html = client.get(page).content.decode()
        assert _address(html).endswith(f"/join/{tenant_a.business.slug}/")
        assert tenant_b.business.slug not in html
    assert client.get(reverse("dashboard:qr-code", args=[b_code.pk])).status_code == 404
