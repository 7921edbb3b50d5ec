"""The home page speaks to a business owner: what the product does and for whom, sign up and log in first, the
developer links in the footer, and a way back to the dashboard for someone logged in."""

import re

import pytest
from django.test import Client


def _main_and_footer(html: str) -> tuple[str, str]:
    main = re.search(r"<main>(.*)</main>", html, re.S).group(1)
    footer = re.search(r"<footer>(.*)</footer>", html, re.S).group(1)
    return main, footer


@pytest.mark.django_db
def test_the_home_page_says_what_the_product_does_and_for_whom():
    response = Client().get("/")

    assert response.status_code == 200
    main, _footer = _main_and_footer(response.content.decode())
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))
    for words in ("keyword", "QR code", "sign-up page", "STOP", "HELP", "evidence", "Campaigns", "Shops",
                  "Real-estate agents"):  # fmt: skip
        assert words in text, words


@pytest.mark.django_db
def test_a_visitor_is_offered_sign_up_and_log_in_and_developers_find_the_api_in_the_footer():
    main, footer = _main_and_footer(Client().get("/").content.decode())

    assert 'href="/signup/"' in main and 'href="/login/"' in main
    assert "/app/" not in main
    # Developer links are secondary: in the footer, not in the pitch.
    assert "/api/" not in main
    assert 'href="/api/docs/">API reference</a>' in footer
    assert 'href="/api/v1/"' in footer and 'href="/api/schema/"' in footer
    assert 'href="/privacy/"' in footer and 'href="/terms/"' in footer


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_someone_logged_in_gets_a_link_to_their_dashboard(tenant_a, tenant_b, role):
    client = Client()
    client.force_login(getattr(tenant_a, role).user)

    main, _footer = _main_and_footer(client.get("/").content.decode())

    assert 'href="/app/">Go to your dashboard</a>' in main
    assert "Tony&#x27;s Pizza" in main
    assert tenant_b.business.name not in main
    assert 'href="/signup/"' not in main
