"""The dashboard warns while the links it builds point at this machine only (PUBLIC_BASE_URL on a loopback address)."""

import pytest

from accounts.dashboard import is_loopback_url

URL = "/app/"
NOTICE = "which only this computer can open"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.0.0.2:8100", True),
        ("http://localhost:8000", True),
        ("http://LOCALHOST.:8000", True),
        ("http://app.localhost", True),
        ("http://[::1]:8000", True),
        ("http://192.168.1.20:8000", False),
        ("https://alerts.example.com", False),
        ("https://localhost.example.com", False),
        ("not a url", False),
    ],
)
def test_loopback_addresses_are_recognised(url, loopback):
    assert is_loopback_url(url) is loopback


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_admins_are_warned_while_links_point_at_loopback(client, tenant_a, settings, role):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8100"
    client.force_login(getattr(tenant_a, role).user)
    page = client.get(URL).content.decode()
    assert NOTICE in page and "http://127.0.0.1:8100" in page


def test_members_who_cannot_change_it_are_not_warned(client, tenant_a, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8100"
    client.force_login(tenant_a.member.user)
    assert NOTICE not in client.get(URL).content.decode()


def test_no_warning_with_a_public_address(client, tenant_a, settings):
    settings.PUBLIC_BASE_URL = "https://alerts.example.com"
    client.force_login(tenant_a.owner.user)
    assert NOTICE not in client.get(URL).content.decode()
