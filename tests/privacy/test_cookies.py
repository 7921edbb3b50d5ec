"""Cookies: essential ones only (session, CSRF, the choice itself) unless the visitor accepts analytics in the banner;
the analytics script is rendered only after that; the choice is remembered and can be changed, without JavaScript."""

import pytest
from django.test import Client
from django.urls import reverse

SCRIPT = "https://stats.example.net/script.js"
ORIGIN = {"HTTP_ORIGIN": "http://testserver"}
ESSENTIAL_NAMES = {"csrftoken", "sessionid", "cookie_consent"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def analytics(settings):
    settings.ANALYTICS_SCRIPT_URL = SCRIPT


def _choose(client, choice, next_url="/privacy/", **headers):
    return client.post(reverse("cookies"), {"choice": choice, "next": next_url}, **(headers or ORIGIN))


def _set_cookies(response) -> set[str]:
    """Cookies a response sets (not the ones it expires)."""
    return {name for name, morsel in response.cookies.items() if morsel["max-age"] != 0 and morsel.value}


# --- no analytics configured: nothing to ask --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/privacy/", "/terms/", "/login/"])
def test_without_analytics_there_is_no_banner_and_no_script(path):
    html = Client().get(path).content.decode()
    assert "data-cookie-banner" not in html
    assert '<script src="https://' not in html


def test_without_analytics_the_settings_page_says_there_is_nothing_to_choose():
    response = Client().get(reverse("cookies"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "nothing to turn on or off" in html
    assert 'name="choice"' not in html
    assert not response.cookies


def test_without_analytics_accepting_them_is_still_never_rendered(tenant_a):
    client = Client()
    _choose(client, "analytics")
    assert SCRIPT not in client.get("/").content.decode()


# --- analytics configured: ask first ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/privacy/", "/terms/", "/login/", "/signup/"])
def test_the_banner_is_shown_and_no_script_loads_before_a_choice(analytics, path):
    html = Client().get(path).content.decode()
    assert "data-cookie-banner" in html
    assert 'value="essential"' in html and "Essential only" in html
    assert 'value="analytics"' in html and "Accept analytics" in html
    assert f'action="{reverse("cookies")}"' in html and 'method="post"' in html
    assert SCRIPT not in html


def test_accept_renders_the_script_and_changing_back_removes_it(analytics):
    client = Client()
    response = _choose(client, "analytics", next_url="/terms/")
    assert response.status_code == 302 and response["Location"] == "/terms/"
    cookie = response.cookies["cookie_consent"]
    assert cookie.value == "analytics"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax" and cookie["httponly"]

    html = client.get("/terms/").content.decode()
    assert f'<script src="{SCRIPT}" defer></script>' in html
    assert "data-cookie-banner" not in html
    assert "Cookie settings" in html  # the way back

    assert _choose(client, "essential").status_code == 302
    html = client.get("/terms/").content.decode()
    assert SCRIPT not in html and "data-cookie-banner" not in html
    assert "You have chosen essential cookies only." in client.get(reverse("cookies")).content.decode()


def test_essential_only_never_sets_a_non_essential_cookie(analytics, tenant_a):
    client = Client()
    seen = _set_cookies(_choose(client, "essential"))
    for path in ("/", "/privacy/", "/terms/", "/login/", "/signup/", f"/join/{tenant_a.business.slug}/"):
        response = client.get(path)
        assert response.status_code == 200
        seen |= _set_cookies(response)
        assert SCRIPT not in response.content.decode()
    assert seen <= ESSENTIAL_NAMES, seen


def test_choosing_essential_drops_a_cookie_analytics_left_behind(analytics):
    client = Client()
    _choose(client, "analytics")
    client.cookies["_pk_id"] = "abc"  # what an analytics script might have set
    response = _choose(client, "essential")
    assert response.cookies["_pk_id"]["max-age"] == 0
    assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies


def test_the_cookie_is_secure_outside_debug(analytics, settings):
    settings.DEBUG = False
    response = _choose(Client(), "analytics", HTTP_ORIGIN="http://testserver")
    assert response.cookies["cookie_consent"]["secure"]


def test_the_banner_is_on_dashboard_pages_too(analytics, tenant_a):
    client = Client()
    client.force_login(tenant_a.member.user)
    html = client.get(reverse("dashboard:overview")).content.decode()
    assert "data-cookie-banner" in html and 'name="next" value="/app/"' in html


def test_the_javascript_path_gets_a_204(analytics):
    response = _choose(Client(), "analytics", HTTP_ORIGIN="http://testserver", HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    assert response.cookies["cookie_consent"].value == "analytics"


def test_the_settings_page_changes_the_choice_without_javascript(analytics):
    client = Client()
    _choose(client, "analytics")
    html = client.get(reverse("cookies"), {"next": "/terms/"}).content.decode()
    assert "You have accepted analytics cookies." in html
    assert 'name="next" value="/terms/"' in html
    assert 'value="essential"' in html and 'value="analytics"' in html


# --- refusals ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Origin nor Referer
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null", "HTTP_REFERER": "https://evil.example/page"},
        {"HTTP_REFERER": "https://evil.example/page"},
    ],
)
def test_a_choice_posted_from_another_site_is_refused(analytics, headers):
    response = Client().post(reverse("cookies"), {"choice": "analytics", "next": "/"}, **headers)
    assert response.status_code == 403
    assert "cookie_consent" not in response.cookies


def test_a_choice_from_this_site_by_referer_is_accepted(analytics):
    response = Client().post(reverse("cookies"), {"choice": "essential"}, HTTP_REFERER="http://testserver/terms/")
    assert response.status_code == 302 and response.cookies["cookie_consent"].value == "essential"


@pytest.mark.parametrize("choice", ["", "all", "x" * 10000, "analytics\x00"])
def test_an_unknown_choice_is_refused_without_a_500(analytics, choice):
    response = _choose(Client(), choice)
    assert response.status_code == 400
    assert "cookie_consent" not in response.cookies


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "\\\\evil.example"]
)
def test_next_never_leaves_the_site(analytics, target):
    response = _choose(Client(), "essential", next_url=target)
    assert response.status_code == 302 and response["Location"] == reverse("cookies")


@pytest.mark.parametrize("value", ["maybe", "", "analytics;x", "A" * 4000])
def test_a_garbage_cookie_counts_as_no_choice(analytics, value):
    client = Client()
    client.cookies["cookie_consent"] = value
    html = client.get("/").content.decode()
    assert "data-cookie-banner" in html and SCRIPT not in html


def test_the_privacy_policy_describes_the_cookies_it_sets(analytics):
    html = Client().get("/privacy/").content.decode()
    assert "<code>cookie_consent</code>" in html
    assert "Analytics cookies" in html and "only if you accept them" in html
    assert f'href="{reverse("cookies")}"' in html
