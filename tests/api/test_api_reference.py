"""The API explains itself: /api/v1/ lists its resources and where the reference is, and /api/docs/ is a readable
reference served from our own static files (no CDN), in development and with production's DEBUG=false alike."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_token_create

RESOURCES = {
    "numbers": "http://testserver/api/v1/numbers/",
    "keywords": "http://testserver/api/v1/keywords/",
    "subscribers": "http://testserver/api/v1/subscribers/",
    "consent-events": "http://testserver/api/v1/consent-events/",
    "suppressions": "http://testserver/api/v1/suppressions/",
    "campaigns": "http://testserver/api/v1/campaigns/",
    "messages": "http://testserver/api/v1/messages/",
    "qr-codes": "http://testserver/api/v1/qr-codes/",
}


def test_the_api_root_lists_every_resource_with_its_absolute_address(db):
    response = Client().get("/api/v1/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["resources"] == RESOURCES
    assert body["auth"] == {
        "signup": "http://testserver/api/v1/auth/signup/",
        "login": "http://testserver/api/v1/auth/login/",
        "logout": "http://testserver/api/v1/auth/logout/",
    }
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["schema"] == "http://testserver/api/schema/"


def test_every_address_the_root_lists_answers(tenant_a):
    client = Client()
    client.force_login(tenant_a.owner.user)
    body = client.get("/api/v1/").json()

    for url in [*body["resources"].values(), body["docs"], body["schema"]]:
        assert client.get(url).status_code == 200, url


def test_the_api_root_uses_the_host_it_was_asked_on(db):
    body = Client().get("/api/v1/", HTTP_HOST="localhost", secure=True).json()

    assert body["resources"]["subscribers"] == "https://localhost/api/v1/subscribers/"


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_the_api_root_is_the_same_for_every_role_and_business(tenant_a, tenant_b, role):
    """It names addresses only: no business's data, nothing a role changes, and a stale token does not break it."""
    anonymous = Client().get("/api/v1/").json()
    for tenant in (tenant_a, tenant_b):
        membership = getattr(tenant, role)
        token = api_token_create(user=membership.user, business=tenant.business, name="docs")[1]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.get("/api/v1/")
        assert response.status_code == 200
        assert response.json() == anonymous
        assert tenant.business.name not in response.content.decode()
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert stale.get("/api/v1/").json() == anonymous


def test_the_api_root_refuses_writes_with_a_json_error(db):
    response = APIClient().post("/api/v1/", {}, format="json")

    assert response.status_code == 405
    assert "POST" in response.json()["error"]


def test_the_reference_is_swagger_ui_from_our_own_static_files(db):
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<title>NextAlerts API</title>" in page
    assert 'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"' in page
    # Nothing is fetched from another site, and nothing runs inline (the Content-Security-Policy): the start-up script
    # that points Swagger UI at the schema is a file of its own.
    assert not re.findall(r"""(?:src|href)=["']https?://""", page)
    assert re.findall(r"<script[^>]*>\s*[^<\s]", page) == []
    script = Client().get("/api/docs/?script")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert '"/api/schema/"' in script.content.decode()


def _assets(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", page)


def test_with_debug_off_the_reference_and_its_files_are_served_by_whitenoise(db, settings, tmp_path):
    """Production (DEBUG off) serves collected, hashed static files through whitenoise (settings/production.py): the
    page must name files that `collectstatic` produced, and the app must serve them itself."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.MIDDLEWARE = [
        settings.MIDDLEWARE[0],  # SecurityMiddleware, then whitenoise, as in production
        "whitenoise.middleware.WhiteNoiseMiddleware",
        *settings.MIDDLEWARE[1:],
    ]
    call_command("collectstatic", interactive=False, verbosity=0)

    client = Client()
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assets = _assets(response.content.decode())
    assert any(re.search(r"/swagger-ui-bundle\.[0-9a-f]{12}\.js$", a) for a in assets), assets
    assert any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content), asset
