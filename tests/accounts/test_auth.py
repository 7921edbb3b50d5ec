"""Signup, login and logout; how passwords and API tokens are stored; token expiry; and the role each method needs."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Business, Membership, Role, User
from accounts.services import api_token_create
from subscribers.models import Keyword, SenderNumber
from tests.factories import TEST_PASSWORD, UserFactory
from tests.helpers import api_client

SIGNUP = "/api/v1/auth/signup/"
LOGIN = "/api/v1/auth/login/"
LOGOUT = "/api/v1/auth/logout/"
STRONG_PASSWORD = "plum-orbit-kettle-2931"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The auth endpoints are rate limited per client address; each test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


def _signup(**overrides):
    body = {
        "email": "ana@example.com",
        "password": STRONG_PASSWORD,
        "business_name": "Ana's Bakery",
        "confirm_age": True,
        "accept_terms": True,
        **overrides,
    }
    body = {key: value for key, value in body.items() if value is not None}
    return APIClient().post(SIGNUP, body, format="json")


def _token_client(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- signup ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_creates_the_owner_and_business_and_returns_a_working_token():
    response = _signup()

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"] and body["expiry"]
    business = Business.objects.get(pk=body["business"]["id"])
    assert body["business"]["name"] == business.name == "Ana's Bakery"
    assert {"id", "name", "slug", "time_zone", "status"} <= set(body["business"])
    user = User.objects.get(email="ana@example.com")
    assert Membership.objects.get(user=user, business=business).role == Role.OWNER
    assert user.confirmed_age_at is not None and user.accepted_terms_at is not None
    assert _token_client(body["token"]).get("/api/v1/numbers/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["confirm_age", "accept_terms"])
@pytest.mark.parametrize("value", [None, False, "no"], ids=["missing", "false", "no"])
def test_signup_without_age_or_terms_confirmation_is_refused_naming_the_field(field, value):
    response = _signup(**{field: value})

    assert response.status_code == 400
    assert field in response.json()["error"]
    assert field in response.json()["details"]
    assert "token" not in response.json()
    assert not User.objects.exists() and not Business.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["ana@example.com", "ANA@Example.COM", " ana@example.com "])
def test_signup_with_an_email_already_registered_is_refused(email):
    assert _signup().status_code == 201

    response = _signup(email=email, business_name="Second Bakery")

    assert response.status_code == 400
    assert "email" in response.json()["details"]
    assert User.objects.count() == 1
    assert not Business.objects.filter(name="Second Bakery").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "1234567890123", "ana@example.com"],
    ids=["too-short", "common", "numeric", "same-as-email"],
)
def test_signup_with_a_weak_password_is_refused(password):
    response = _signup(password=password)

    assert response.status_code == 400
    assert "password" in response.json()["details"]
    assert response.json()["error"].startswith("password:")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_stores_the_support_contact_for_help_replies():
    response = _signup(support_contact="help@anasbakery.example")

    assert response.status_code == 201, response.content
    assert Business.objects.get(pk=response.json()["business"]["id"]).support_contact == "help@anasbakery.example"


@pytest.mark.django_db
@pytest.mark.parametrize("contact", ["ask at the counter", "12345", "x" * 300, 42, ["a"], {"a": 1}])
def test_signup_with_an_unusable_support_contact_is_refused_naming_it(contact):
    response = _signup(support_contact=contact)

    assert response.status_code == 400
    assert "support_contact" in response.json()["details"]
    assert not User.objects.exists() and not Business.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["email", "password", "business_name"])
def test_signup_without_a_required_field_is_refused_naming_it(missing):
    response = _signup(**{missing: None})

    assert response.status_code == 400
    assert missing in response.json()["error"]


# --- login and logout -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["user@example.com", "User@Example.com"])
def test_login_returns_a_token_and_its_expiry(email):
    user = UserFactory(email="user@example.com")
    Membership.objects.create(user=user, business=Business.objects.create(name="Shop", slug="shop"), role=Role.OWNER)

    response = APIClient().post(LOGIN, {"email": email, "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"] and body["expiry"]
    assert body["business"]["name"] == "Shop"
    assert _token_client(body["token"]).get("/api/v1/numbers/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "password"),
    [("user@example.com", "wrong-password-123"), ("nobody@example.com", TEST_PASSWORD), ("user@example.com", "")],
    ids=["wrong-password", "unknown-email", "empty-password"],
)
def test_login_with_wrong_credentials_is_refused_without_a_token(email, password):
    user = UserFactory(email="user@example.com")
    Membership.objects.create(user=user, business=Business.objects.create(name="Shop", slug="shop"), role=Role.OWNER)

    response = APIClient().post(LOGIN, {"email": email, "password": password}, format="json")

    assert response.status_code == 400
    assert "token" not in response.json()
    assert response.json()["error"]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_password_guessing_is_rate_limited(settings):
    UserFactory(email="user@example.com")
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    client = APIClient()

    # Each guess for another email, so the per-email lock (tests/accounts/test_login_lock.py) is not what stops them.
    statuses = [
        client.post(LOGIN, {"email": f"guess{n}@example.com", "password": f"guess-{n}"}, format="json").status_code
        for n in range(allowed + 1)
    ]

    assert statuses[:allowed] == [400] * allowed
    assert statuses[allowed] == 429
    # Even the right password is turned away until the window passes.
    right = client.post(LOGIN, {"email": "user@example.com", "password": TEST_PASSWORD}, format="json")
    assert right.status_code == 429
    assert "token" not in right.json()


def test_logout_revokes_the_token(tenant_a):
    client = api_client(tenant_a.owner)
    assert client.get("/api/v1/numbers/").status_code == 200

    response = client.post(LOGOUT)

    assert response.status_code == 204
    assert client.get("/api/v1/numbers/").status_code == 401
    assert not ApiToken.objects.filter(user=tenant_a.owner.user).exists()


def test_logout_revokes_only_the_token_it_was_sent_with(tenant_a):
    leaving, staying = api_client(tenant_a.owner), api_client(tenant_a.owner)

    assert leaving.post(LOGOUT).status_code == 204

    assert leaving.get("/api/v1/numbers/").status_code == 401
    assert staying.get("/api/v1/numbers/").status_code == 200


@pytest.mark.django_db
def test_logout_without_a_token_is_401():
    assert APIClient().post(LOGOUT).status_code == 401


# --- how secrets are stored -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_passwords_are_stored_as_bcrypt_with_at_least_12_rounds():
    assert _signup().status_code == 201

    stored = User.objects.filter(email="ana@example.com").values_list("password", flat=True).get()

    algorithm, bcrypt_hash = stored.split("$", 1)
    assert algorithm == "bcrypt_sha256"
    _, variant, cost, _salt_and_digest = bcrypt_hash.split("$")
    assert variant == "2b"
    assert int(cost) >= 12
    assert STRONG_PASSWORD not in stored


def test_api_tokens_are_stored_hashed(tenant_a):
    _token, secret = api_token_create(user=tenant_a.owner.user, business=tenant_a.business)

    assert _token_client(secret).get("/api/v1/numbers/").status_code == 200
    (row,) = ApiToken.objects.filter(user=tenant_a.owner.user).values()
    for column, value in row.items():
        assert secret not in str(value), f"the token secret is stored in ApiToken.{column}"
    assert len(row["digest"]) == 128  # SHA-512, hex


@pytest.mark.django_db
def test_the_token_from_signup_is_stored_hashed():
    secret = _signup().json()["token"]

    (row,) = ApiToken.objects.values()
    assert all(secret not in str(value) for value in row.values())


# --- expiry ---------------------------------------------------------------------------------------------------------


def test_tokens_are_issued_with_an_expiry(tenant_a):
    token, _secret = api_token_create(user=tenant_a.owner.user, business=tenant_a.business)

    assert token.expiry is not None
    assert timezone.now() < token.expiry <= timezone.now() + timedelta(days=30)


def test_an_expired_token_gets_401(tenant_a):
    token, secret = api_token_create(user=tenant_a.owner.user, business=tenant_a.business)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(minutes=1))

    response = _token_client(secret).get("/api/v1/numbers/")

    assert response.status_code == 401
    assert response.json()["error"]
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_token_is_never_refreshed_past_its_absolute_lifetime(tenant_a, settings):
    token, secret = api_token_create(user=tenant_a.owner.user, business=tenant_a.business)
    max_ttl = settings.REST_KNOX["AUTO_REFRESH_MAX_TTL"]
    created = timezone.now() - max_ttl + timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(created=created, expiry=timezone.now() + timedelta(minutes=1))

    assert _token_client(secret).get("/api/v1/numbers/").status_code == 200

    token.refresh_from_db()
    # Refreshed from one minute to the absolute limit, five minutes away, and not the full idle window further.
    assert abs(token.expiry - (created + max_ttl)) < timedelta(seconds=1)


# --- roles ----------------------------------------------------------------------------------------------------------


def _target(tenant, kind):
    if kind == "numbers":
        return SenderNumber.objects.create(business=tenant.business, phone_number="+14155559901")
    return Keyword.objects.create(business=tenant.business, number=tenant.number, keyword="PIZZA")


@pytest.mark.parametrize("kind", ["numbers", "keywords"])
def test_a_member_cannot_delete_a_number_or_keyword(tenant_a, kind):
    target = _target(tenant_a, kind)

    response = api_client(tenant_a.member).delete(f"/api/v1/{kind}/{target.pk}/")

    assert response.status_code == 403
    assert response.json() == {"error": "This action needs the admin role in Tony's Pizza."}
    assert type(target).objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("role", ["admin", "owner"])
@pytest.mark.parametrize("kind", ["numbers", "keywords"])
def test_an_admin_or_owner_can_delete_a_number_or_keyword(tenant_a, kind, role):
    target = _target(tenant_a, kind)

    response = api_client(getattr(tenant_a, role)).delete(f"/api/v1/{kind}/{target.pk}/")

    assert response.status_code == 204
    assert not type(target).objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/numbers/", {"phone_number": "+12025550199"}),
        ("/api/v1/keywords/", {"keyword": "PIZZA", "number": None}),
    ],
)
def test_a_member_cannot_create_numbers_or_keywords(tenant_a, path, body):
    if "number" in body:
        body = {**body, "number": tenant_a.number.pk}

    response = api_client(tenant_a.member).post(path, body, format="json")

    assert response.status_code == 403
    assert "admin role" in response.json()["error"]


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_every_role_can_read(tenant_a, role):
    client = api_client(getattr(tenant_a, role))

    for path in ("/api/v1/numbers/", "/api/v1/keywords/", "/api/v1/subscribers/", "/api/v1/suppressions/"):
        assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_escape_the_rate_limit(settings):
    """With no proxy configured (NUM_PROXIES=0), X-Forwarded-For is not trusted as the client's identity."""
    UserFactory(email="user@example.com")
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    client = APIClient()
    statuses = [
        client.post(
            LOGIN,
            {"email": "user@example.com", "password": f"guess-{n}"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(allowed + 1)
    ]
    assert statuses[allowed] == 429


def test_a_method_the_endpoint_does_not_offer_is_405_for_every_role(tenant_a):
    number_id = tenant_a.number.pk
    for membership in (tenant_a.member, tenant_a.admin, tenant_a.owner):
        response = api_client(membership).put(f"/api/v1/numbers/{number_id}/", {"phone_number": "+12025550100"})
        assert response.status_code == 405, membership.role


def test_tokens_of_a_deleted_business_stop_working(tenant_a):
    client = api_client(tenant_a.owner)
    assert client.get("/api/v1/subscribers/").status_code == 200
    tenant_a.business.status = "deleted"
    tenant_a.business.save()
    response = client.get("/api/v1/subscribers/")
    assert response.status_code == 403
    assert "deleted" in response.json()["error"]
