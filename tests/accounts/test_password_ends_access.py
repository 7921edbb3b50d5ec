"""A new password ends what the old one opened, whichever page sets it: the user's API tokens (in every business)
answer 401 afterwards, their other dashboard sessions are logged out (on a reset, every session), the page says so,
and the audit log records how many tokens went. Other people's tokens and sessions are untouched."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, AuditEvent, User
from tests.factories import TEST_PASSWORD, MembershipFactory

NEW_PASSWORD = "plum-orbit-kettle-2931"
ACCOUNT = reverse("dashboard:account")
SUBSCRIBERS = "/api/v1/subscribers/"
Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token(user, business) -> APIClient:
    _row, secret = services.api_token_create(user=user, business=business, name="before")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(SUBSCRIBERS).status_code == 200
    return client


def _still_logged_in(client) -> bool:
    response = client.get(ACCOUNT)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def user(tenant_a, tenant_b):
    """An owner of one business and a member of another, with a token in each."""
    user = tenant_a.owner.user
    MembershipFactory(user=user, business=tenant_b.business)
    return user


@pytest.fixture
def someone_else(tenant_a):
    return tenant_a.admin.user


# --- Settings → Your account ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_password_ends_tokens_and_other_sessions_keeps_this_one_and_says_so(
    tenant_a, tenant_b, user, someone_else
):
    tokens = [_token(user, tenant_a.business), _token(user, tenant_b.business)]
    their_token = _token(someone_else, tenant_a.business)
    this, other, theirs = _logged_in(user), _logged_in(user), _logged_in(someone_else)

    response = this.post(
        ACCOUNT,
        {
            "form": "password",
            "password-current_password": TEST_PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        follow=True,
    )

    assert response.status_code == 200
    assert (
        "Your password was changed. You were signed out everywhere else; your 2 API tokens were revoked — create "
        "new ones in Settings → API tokens." in _text(response)
    )
    assert [token.get(SUBSCRIBERS).status_code for token in tokens] == [401, 401]
    assert _still_logged_in(this) and not _still_logged_in(other)
    assert their_token.get(SUBSCRIBERS).status_code == 200 and _still_logged_in(theirs)


@pytest.mark.django_db
def test_a_member_is_told_to_log_in_through_the_api_for_a_new_token(tenant_a):
    member = tenant_a.member.user
    token = _token(member, tenant_a.business)

    response = _logged_in(member).post(
        ACCOUNT,
        {
            "form": "password",
            "password-current_password": TEST_PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        follow=True,
    )

    assert (
        "You were signed out everywhere else; your API token was revoked — log in through the API for a new one."
        in _text(response)
    )
    assert token.get(SUBSCRIBERS).status_code == 401


# --- password reset ---------------------------------------------------------------------------------------------------


def _reset(client, email, password=NEW_PASSWORD):
    assert client.post(reverse("password_reset"), {"email": email}).status_code == 302
    link = re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", mail.outbox[-1].body).group(0))
    form = client.get(link, follow=True)
    return client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}, follow=True)


@pytest.mark.django_db
def test_a_password_reset_ends_every_token_and_every_session_and_says_so(tenant_a, tenant_b, user, someone_else):
    tokens = [_token(user, tenant_a.business), _token(user, tenant_b.business)]
    their_token = _token(someone_else, tenant_a.business)
    session, theirs = _logged_in(user), _logged_in(someone_else)

    response = _reset(Client(), user.email)

    assert response.status_code == 200 and response.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert (
        "You were signed out everywhere; any API tokens of yours were revoked — create new ones in Settings → API "
        "tokens, or log in through the API again." in _text(response)
    )
    assert [token.get(SUBSCRIBERS).status_code for token in tokens] == [401, 401]
    assert not _still_logged_in(session)
    assert their_token.get(SUBSCRIBERS).status_code == 200 and _still_logged_in(theirs)
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=Action.PASSWORD_RESET)
    assert event.actor == user and event.target == f"user:{user.pk}" and event.details == {"tokens_revoked": 2}


@pytest.mark.django_db
def test_a_reset_done_from_a_logged_in_browser_logs_that_browser_out_too(tenant_a, user):
    token = _token(user, tenant_a.business)
    client = _logged_in(user)

    _reset(client, user.email)

    assert not _still_logged_in(client)
    assert token.get(SUBSCRIBERS).status_code == 401


# --- the platform admin -----------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.com", password=TEST_PASSWORD)


@pytest.mark.django_db
def test_an_admin_setting_someones_password_ends_their_tokens_and_sessions(tenant_a, user, superuser):
    token = _token(user, tenant_a.business)
    session = _logged_in(user)
    admin = _logged_in(superuser)
    path = reverse("admin:auth_user_password_change", args=[user.pk])

    response = admin.post(
        path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}, follow=True
    )

    assert response.status_code == 200
    assert "Their other sessions were signed out and their API token was revoked." in _text(response)
    assert token.get(SUBSCRIBERS).status_code == 401
    assert not _still_logged_in(session)
    assert admin.get("/admin/").status_code == 200
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGED)
    assert event.actor == superuser and event.target == f"user:{user.pk}"
    assert event.details == {"tokens_revoked": 1, "by_admin": True}


@pytest.mark.django_db
def test_an_admin_turning_password_log_in_off_ends_their_tokens(tenant_a, user, superuser):
    token = _token(user, tenant_a.business)
    path = reverse("admin:auth_user_password_change", args=[user.pk])

    response = _logged_in(superuser).post(path, {"usable_password": "false", "unset-password": "Disable"})

    assert response.status_code == 302
    assert token.get(SUBSCRIBERS).status_code == 401


@pytest.mark.parametrize("user_id", ["999999", "not-a-number", "-1"])
@pytest.mark.django_db
def test_the_admin_password_page_for_no_such_user_is_404(superuser, user_id):
    admin = _logged_in(superuser)
    path = f"/admin/accounts/user/{user_id}/password/"

    assert admin.get(path).status_code == 404
    assert admin.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 404


@pytest.mark.django_db
def test_staff_without_the_change_permission_cannot_set_a_password(tenant_a, user):
    token = _token(user, tenant_a.business)
    staff = User.objects.create_user(email="staff@example.com", password=TEST_PASSWORD, is_staff=True)
    path = reverse("admin:auth_user_password_change", args=[user.pk])

    response = _logged_in(staff).post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 403
    assert token.get(SUBSCRIBERS).status_code == 200
    assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_a_staff_member_changing_their_own_password_in_the_admin_ends_their_tokens(tenant_a, user):
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    token = _token(user, tenant_a.business)
    this, other = _logged_in(user), _logged_in(user)

    response = this.post(
        reverse("admin:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("admin:password_change_done")
    assert "You were signed out everywhere else; your API tokens were revoked" in _text(response)
    assert token.get(SUBSCRIBERS).status_code == 401
    assert _still_logged_in(this) and not _still_logged_in(other)


# --- any other way a password is saved --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_new_password_anywhere_revokes_the_tokens(tenant_a, user):
    """Such as `manage.py changepassword` or a shell: the model itself ends the tokens."""
    token = _token(user, tenant_a.business)

    user = User.objects.get(pk=user.pk)
    user.set_password(NEW_PASSWORD)
    user.save()

    assert token.get(SUBSCRIBERS).status_code == 401


@pytest.mark.django_db
def test_a_password_hash_upgrade_at_log_in_is_not_a_change(tenant_a, user, settings):
    token = _token(user, tenant_a.business)
    # The stored hash is MD5; with bcrypt preferred, the next log-in rehashes it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert Client().post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD}).status_code == 302

    assert User.objects.get(pk=user.pk).password.startswith("bcrypt_sha256$")
    assert token.get(SUBSCRIBERS).status_code == 200


@pytest.mark.django_db
def test_saving_other_fields_keeps_the_tokens(tenant_a, user):
    token = _token(user, tenant_a.business)

    user.full_name = "Tony"
    user.save()

    assert token.get(SUBSCRIBERS).status_code == 200
    assert ApiToken.objects.filter(user=user).count() == 1
