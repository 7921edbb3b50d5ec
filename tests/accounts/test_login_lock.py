"""One lock for every door: the dashboard log-in, the API log-in and the admin log-in count failures together, a lock
set through one refuses the right password at all three, it expires after 15 minutes, and a success clears the count."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import AuditEvent
from tests.factories import TEST_PASSWORD

DOORS = ["dashboard", "api", "admin"]
LOCKED = "Too many failed attempts. Try again in 15 minutes or reset your password."
NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(tenant_a):
    """Someone who may use all three doors: an owner of a business (for the API) and staff (for the admin)."""
    user = tenant_a.owner.user
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def _try(door, email, password, address="192.0.2.10"):
    """Log in through `door`; returns (logged_in, what the door said)."""
    if door == "api":
        response = APIClient(REMOTE_ADDR=address).post(
            "/api/v1/auth/login/", {"email": email, "password": password}, format="json"
        )
        return response.status_code == 200 and "token" in response.json(), response
    path = "/login/" if door == "dashboard" else "/admin/login/?next=/admin/"
    response = Client(REMOTE_ADDR=address).post(path, {"username": email, "password": password})
    return response.status_code == 302, response


def _fail(door, email, times):
    for _ in range(times):
        logged_in, _response = _try(door, email, "wrong-password")
        assert not logged_in


@pytest.mark.parametrize("failing_door", DOORS)
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db
def test_five_wrong_passwords_on_any_door_lock_every_door(user, failing_door, door):
    with time_machine.travel(NOW, tick=False):
        _fail(failing_door, user.email, services.LOGIN_FAILURES_PER_EMAIL)

        # The right password, even from another address, is refused while the lock lasts.
        logged_in, response = _try(door, user.email, TEST_PASSWORD, address="203.0.113.9")

    assert not logged_in
    if door == "api":
        assert response.status_code == 429
        assert response["Retry-After"] == str(15 * 60)
        assert response.json() == {"error": LOCKED}
    else:
        assert response.status_code == 200
        assert LOCKED in response.content.decode()


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db
def test_failures_on_different_doors_add_up_to_one_lock(user, door):
    with time_machine.travel(NOW, tick=False):
        for failing_door in ["dashboard", "api", "admin", "api"]:
            _fail(failing_door, user.email, 1)
        _fail("dashboard" if door != "dashboard" else "admin", user.email, 1)

        logged_in, _response = _try(door, user.email, TEST_PASSWORD)

    assert not logged_in


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db
def test_the_lock_expires_after_fifteen_minutes_on_every_door(user, door):
    with time_machine.travel(NOW, tick=False) as clock:
        _fail("api", user.email, services.LOGIN_FAILURES_PER_EMAIL)

        clock.shift(timedelta(minutes=14, seconds=59))
        assert not _try(door, user.email, TEST_PASSWORD)[0]
        # A second later every door opens again.
        clock.shift(timedelta(seconds=1))
        logged_in, _response = _try(door, user.email, TEST_PASSWORD)

    assert logged_in


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db
def test_a_locked_api_answer_counts_down_the_wait(user, door):
    with time_machine.travel(NOW, tick=False) as clock:
        _fail(door, user.email, services.LOGIN_FAILURES_PER_EMAIL)
        clock.shift(timedelta(minutes=10))

        _logged_in, response = _try("api", user.email, TEST_PASSWORD)

    assert response.status_code == 429 and response["Retry-After"] == str(5 * 60)
    assert "Try again in 5 minutes" in response.json()["error"]


@pytest.mark.parametrize("succeeding_door", DOORS)
@pytest.mark.django_db
def test_a_success_on_any_door_starts_the_count_again_on_every_door(user, succeeding_door):
    with time_machine.travel(NOW, tick=False):
        _fail("dashboard", user.email, 2)
        _fail("api", user.email, 2)
        assert _try(succeeding_door, user.email, TEST_PASSWORD)[0]

        for door in DOORS:  # four more failures would have locked without the reset
            _fail(door, user.email, 1)
        _fail("admin", user.email, 1)

        assert all(_try(door, user.email, TEST_PASSWORD)[0] for door in DOORS)


@pytest.mark.django_db
def test_the_api_still_answers_a_wrong_password_with_400_before_the_lock(user):
    with time_machine.travel(NOW, tick=False):
        _logged_in, response = _try("api", user.email, "wrong-password")

    assert response.status_code == 400
    assert response.json()["error"] == "Email or password is incorrect."


@pytest.mark.django_db
def test_an_unknown_email_locks_the_same_way_on_the_api(user):
    with time_machine.travel(NOW, tick=False):
        _fail("api", "nobody@example.com", services.LOGIN_FAILURES_PER_EMAIL)
        _logged_in, response = _try("api", "nobody@example.com", TEST_PASSWORD)

    assert response.status_code == 429 and response.json() == {"error": LOCKED}


@pytest.mark.django_db
def test_an_address_guessing_many_emails_is_locked_at_the_admin_too(user):
    with time_machine.travel(NOW, tick=False):
        for n in range(services.LOGIN_FAILURES_PER_IP):
            _try(DOORS[n % 3], f"guess{n}@example.com", "wrong-password", address="198.51.100.7")

        assert not _try("admin", user.email, TEST_PASSWORD, address="198.51.100.7")[0]
        assert _try("admin", user.email, TEST_PASSWORD, address="198.51.100.8")[0]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db
def test_the_lock_is_in_the_audit_log(user, door):
    with time_machine.travel(NOW, tick=False):
        _fail(door, user.email, services.LOGIN_FAILURES_PER_EMAIL)
        _try(door, user.email, TEST_PASSWORD)

    failed = list(AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("id"))
    assert len(failed) == services.LOGIN_FAILURES_PER_EMAIL + 1
    assert all(event.details == {"email": user.email} for event in failed[:4])
    # The failure that set the lock, and the refused right password, say how long the lock has left.
    assert [event.details for event in failed[4:]] == [{"email": user.email, "locked_for_seconds": 15 * 60}] * 2
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()
