"""Where a developer looks for the API reference: the API tokens page links it (owners only see that page)."""

import pytest
from django.test import Client
from django.urls import reverse


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.mark.django_db
def test_the_tokens_page_links_the_api_reference_and_schema(tenant_a):
    html = _client(tenant_a.owner).get(reverse("dashboard:tokens")).content.decode()

    assert 'href="/api/docs/">API reference</a>' in html
    assert 'href="/api/v1/"' in html and 'href="/api/schema/"' in html


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.django_db
def test_the_tokens_page_with_its_links_stays_for_owners(tenant_a, role):
    assert _client(getattr(tenant_a, role)).get(reverse("dashboard:tokens")).status_code == 403
