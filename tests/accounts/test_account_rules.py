"""The account rules the privacy policy states, held true by the settings and by behaviour: bcrypt of cost 12 or
more, hashed and expiring tokens, sessions that end, log-in throttling.

Already proved elsewhere, not repeated here: a signed-up password is stored as bcrypt_sha256 with cost >= 12, API
tokens are stored hashed, carry an expiry, are refused once expired and never refreshed past their absolute lifetime
(tests/accounts/test_auth.py); the API log-in is throttled (test_password_guessing_is_rate_limited) and the dashboard
log-in locks after 5 failures for an email or 20 from an address (tests/dashboard/test_accounts_pages.py); invitation
links are stored as a digest only and expire after 7 days (the same file).
"""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from tests.factories import TEST_PASSWORD

MIN_ROUNDS = 12


def _bcrypt_cost(encoded: str) -> int:
    algorithm, rest = encoded.split("$", 1)
    assert algorithm in ("bcrypt_sha256", "bcrypt")
    return int(rest.split("$")[2])


def test_the_default_hasher_is_bcrypt_with_at_least_12_rounds():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    hasher = get_hasher("default")
    assert hasher.algorithm == "bcrypt_sha256"
    assert hasher.rounds >= MIN_ROUNDS
    # No weaker hasher is configured that an old password could be left in.
    assert all("bcrypt" in name.lower() for name in settings.PASSWORD_HASHERS)


def test_an_actual_hash_has_cost_12_or_more_and_verifies():
    encoded = make_password("a-long-enough-passphrase-9")
    assert identify_hasher(encoded).algorithm == "bcrypt_sha256"
    assert _bcrypt_cost(encoded) >= MIN_ROUNDS
    assert "a-long-enough-passphrase-9" not in encoded
    assert check_password("a-long-enough-passphrase-9", encoded)


@pytest.mark.django_db
def test_a_password_set_by_a_reset_is_bcrypt_too(tenant_a):
    user = tenant_a.owner.user
    user.set_password("another-long-passphrase-7")
    user.save()
    user.refresh_from_db()
    assert _bcrypt_cost(user.password) >= MIN_ROUNDS


def test_api_tokens_expire_on_their_own_with_a_hard_limit():
    knox = settings.REST_KNOX
    assert knox["TOKEN_TTL"] is not None and knox["TOKEN_TTL"] <= timedelta(days=1)
    assert knox["AUTO_REFRESH_MAX_TTL"] is not None and knox["AUTO_REFRESH_MAX_TTL"] <= timedelta(days=30)
    assert ApiToken._meta.get_field("digest").max_length >= 128  # a SHA-512 digest, not the secret


@pytest.mark.django_db
def test_a_revoked_token_is_gone_and_refused(tenant_a):
    token, secret = services.api_token_create(user=tenant_a.owner.user, business=tenant_a.business)
    services.api_token_revoke(token=token)
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    response = Client().get("/api/v1/numbers/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 401


def test_session_settings_end_idle_sessions_and_keep_the_cookie_private():
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST  # the age counts from the last request: an idle timeout
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
    assert not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE or settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_a_dashboard_session_ends_after_the_idle_period(tenant_a):
    overview = reverse("dashboard:overview")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        response = client.post(reverse("login"), {"username": tenant_a.owner.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        clock.move_to(start + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60))
        assert client.get(overview).status_code == 200  # still active, and the activity extends it
        clock.move_to(start + timedelta(seconds=2 * settings.SESSION_COOKIE_AGE - 120))
        assert client.get(overview).status_code == 200
        clock.move_to(start + timedelta(seconds=3 * settings.SESSION_COOKIE_AGE))
        response = client.get(overview)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
