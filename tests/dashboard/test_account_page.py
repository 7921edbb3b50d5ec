"""Settings → Your account: each person changes their own name, email (only once a link sent to the new address is
opened, with a note to the old one) and password (other sessions and API tokens end); every change is audit-logged;
nobody reaches another person's account, whatever their role or business."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, AuditEvent, User
from tests.factories import TEST_PASSWORD, MembershipFactory

ACCOUNT = reverse("dashboard:account")
NEW_PASSWORD = "plum-orbit-kettle-2931"
Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _field_error(response, field: str) -> str:
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
    return found.group(1) if found else ""


def _request_email_change(client, new_email, password=TEST_PASSWORD):
    return client.post(ACCOUNT, {"form": "email", "email-new_email": new_email, "email-password": password})


def _change_password(client, current=TEST_PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        ACCOUNT,
        {
            "form": "password",
            "password-current_password": current,
            "password-new_password": new,
            "password-new_password_again": new if again is None else again,
        },
    )


def _link_path(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


# --- the page ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.django_db
def test_every_role_has_a_your_account_tab_showing_their_own_account(tenant_a, role):
    membership = getattr(tenant_a, role)
    client = _client(membership)

    settings_html = client.get(reverse("dashboard:settings")).content.decode()
    assert f'href="{ACCOUNT}"' in settings_html and "Your account" in settings_html

    response = client.get(ACCOUNT)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1 and 'aria-current="page">Your account' in html
    assert membership.user.email in html
    others = {tenant_a.owner, tenant_a.admin, tenant_a.member} - {membership}
    assert not any(other.user.email in html for other in others)


@pytest.mark.django_db
def test_the_page_needs_a_login(tenant_a):
    response = Client().get(ACCOUNT)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert Client().post(ACCOUNT, {"form": "name", "name-full_name": "X"}).status_code == 302


# --- name -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.django_db
def test_every_role_changes_only_their_own_name(tenant_a, tenant_b, role):
    membership = getattr(tenant_a, role)
    others = [m for m in (tenant_a.owner, tenant_a.admin, tenant_a.member, tenant_b.owner) if m != membership]

    # Naming someone else in the form changes nothing about them.
    response = _client(membership).post(
        ACCOUNT,
        {"form": "name", "name-full_name": "  Ana Lima  ", "user": tenant_b.owner.user.pk, "pk": tenant_a.owner.pk},
    )

    assert response.status_code == 302 and response.url == ACCOUNT
    assert User.objects.get(pk=membership.user.pk).full_name == "Ana Lima"
    assert all(User.objects.get(pk=other.user.pk).full_name == "" for other in others)
    event = AuditEvent.objects.get(action=Action.NAME_CHANGED)
    assert event.actor == membership.user and event.business == tenant_a.business
    assert event.details == {"from": "", "to": "Ana Lima"}
    team = _client(tenant_a.owner).get(reverse("dashboard:team")).content.decode()
    assert "Ana Lima" in team


@pytest.mark.django_db
def test_a_name_too_long_is_refused_next_to_the_field(tenant_a):
    response = _client(tenant_a.member).post(ACCOUNT, {"form": "name", "name-full_name": "x" * 151})

    assert response.status_code == 200
    assert "at most 150" in _field_error(response, "name-full_name")
    assert User.objects.get(pk=tenant_a.member.user.pk).full_name == ""


# --- email ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.django_db
def test_an_email_change_takes_effect_only_through_the_link_sent_to_the_new_address(tenant_a, role):
    membership = getattr(tenant_a, role)
    user = membership.user
    old = user.email
    client = _client(membership)

    response = _request_email_change(client, " Ana.New@Example.com ")

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == old  # nothing changes yet
    confirm, notice = mail.outbox
    assert confirm.to == ["ana.new@example.com"] and "confirm" in confirm.subject.lower()
    assert notice.to == [old] and "ana.new@example.com" in notice.body
    assert "http" not in notice.body  # the note to the old address carries no link that would make the change
    assert "ana.new@example.com" in client.get(ACCOUNT).content.decode()  # the page says a change is waiting

    link = _link_path(confirm)
    page = client.get(link)
    assert page.status_code == 200 and "ana.new@example.com" in page.content.decode()
    assert User.objects.get(pk=user.pk).email == old  # opening the link only asks

    response = client.post(link)
    assert response.status_code == 302 and response.url == ACCOUNT
    assert User.objects.get(pk=user.pk).email == "ana.new@example.com"
    # Still logged in, and the new address is the one to log in with.
    assert client.get(ACCOUNT).status_code == 200
    login = Client().post(reverse("login"), {"username": "ana.new@example.com", "password": TEST_PASSWORD})
    assert login.status_code == 302
    requested = AuditEvent.objects.get(action=Action.EMAIL_CHANGE_REQUESTED)
    changed = AuditEvent.objects.get(action=Action.EMAIL_CHANGED)
    assert requested.actor == changed.actor == user and changed.business == tenant_a.business
    assert changed.details == {"from": old, "to": "ana.new@example.com"}

    # Used once: the link no longer works.
    assert client.post(link).status_code == 404
    assert client.get(link).status_code == 404


@pytest.mark.django_db
def test_the_email_link_expires(tenant_a):
    # Late on the Saturday before the US clocks go forward: the link's lifetime is counted in real hours.
    with time_machine.travel(datetime(2026, 3, 8, 3, 0, tzinfo=UTC), tick=False) as clock:
        _request_email_change(_client(tenant_a.member), "new@example.com")
        link = _link_path(mail.outbox[0])
        clock.shift(services.EMAIL_CHANGE_VALID_FOR - timedelta(minutes=1))
        assert _client(tenant_a.member).get(link).status_code == 200
        clock.shift(timedelta(minutes=2))
        response = _client(tenant_a.member).post(link)

    assert response.status_code == 404 and "expired" in response.content.decode()
    assert User.objects.get(pk=tenant_a.member.user.pk).email != "new@example.com"


@pytest.mark.django_db
def test_the_email_link_stops_working_once_the_password_changes(tenant_a):
    client = _client(tenant_a.member)
    _request_email_change(client, "new@example.com")
    link = _link_path(mail.outbox[0])

    assert _change_password(client).status_code == 302

    assert client.post(link).status_code == 404
    assert User.objects.get(pk=tenant_a.member.user.pk).email != "new@example.com"


@pytest.mark.django_db
def test_an_older_email_link_stops_working_once_the_email_changed_again(tenant_a):
    client = _client(tenant_a.member)
    _request_email_change(client, "first@example.com")
    first = _link_path(mail.outbox[0])
    _request_email_change(client, "second@example.com")
    second = _link_path(mail.outbox[2])

    assert client.post(second).status_code == 302
    assert client.post(first).status_code == 404
    assert User.objects.get(pk=tenant_a.member.user.pk).email == "second@example.com"


@pytest.mark.django_db
def test_someone_elses_email_link_is_not_found(tenant_a, tenant_b):
    _request_email_change(_client(tenant_a.member), "new@example.com")
    link = _link_path(mail.outbox[0])

    for other in (tenant_b.owner, tenant_a.owner):
        assert _client(other).get(link).status_code == 404
        assert _client(other).post(link).status_code == 404
    assert User.objects.get(pk=tenant_a.member.user.pk).email != "new@example.com"
    assert User.objects.get(pk=tenant_b.owner.user.pk).email != "new@example.com"
    # Logged out, the link asks them to log in first.
    response = Client().get(link)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "token", ["garbage", "a:b:c", "x" * 5000, "eyJ1c2VyIjoxfQ:1abc:forged", "%00", "..%2F..%2Fetc"]
)
@pytest.mark.django_db
def test_a_bad_email_link_is_a_friendly_not_found(tenant_a, token):
    client = _client(tenant_a.member)
    response = client.get(f"{ACCOUNT}email/{token}/")
    assert response.status_code == 404
    assert client.post(f"{ACCOUNT}email/{token}/").status_code == 404


@pytest.mark.django_db
def test_an_address_taken_meanwhile_is_refused_at_the_link(tenant_a):
    client = _client(tenant_a.member)
    _request_email_change(client, "new@example.com")
    link = _link_path(mail.outbox[0])
    MembershipFactory(user__email="new@example.com")

    response = client.post(link)

    assert response.status_code == 409 and "already" in response.content.decode()
    assert User.objects.get(pk=tenant_a.member.user.pk).email != "new@example.com"


@pytest.mark.parametrize(
    "new_email, password, field, words",
    [
        ("new@example.com", "wrong-password", "email-password", "not right"),
        ("new@example.com", "", "email-password", "current password"),
        ("not an email", TEST_PASSWORD, "email-new_email", "valid email"),
        ("", TEST_PASSWORD, "email-new_email", "new email address"),
        ("TAKEN@example.com", TEST_PASSWORD, "email-new_email", "already"),
        ("SELF", TEST_PASSWORD, "email-new_email", "already your"),
    ],
)
@pytest.mark.django_db
def test_email_change_errors_are_shown_next_to_their_field(tenant_a, new_email, password, field, words):
    MembershipFactory(user__email="taken@example.com")
    new_email = tenant_a.member.user.email.upper() if new_email == "SELF" else new_email

    response = _request_email_change(_client(tenant_a.member), new_email, password)

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert mail.outbox == []


# --- password ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.django_db
def test_a_password_change_keeps_this_session_ends_the_others_and_revokes_api_tokens(tenant_a, tenant_b, role):
    membership = getattr(tenant_a, role)
    user = membership.user
    MembershipFactory(user=user, business=tenant_b.business)
    services.api_token_create(user=user, business=tenant_a.business, name="a")
    services.api_token_create(user=user, business=tenant_b.business, name="b")
    services.api_token_create(user=tenant_a.owner.user if role != "owner" else tenant_a.admin.user,
                              business=tenant_a.business, name="someone else's")  # fmt: skip
    this, other = _client(membership), _client(membership)

    response = _change_password(this)

    assert response.status_code == 302 and response.url == ACCOUNT
    assert this.get(ACCOUNT).status_code == 200
    assert other.get(ACCOUNT).status_code == 302  # logged out
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(name="someone else's").exists()
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGED)
    assert event.actor == user and event.details == {"tokens_revoked": 2}
    assert NEW_PASSWORD not in str(event.details) and TEST_PASSWORD not in str(event.details)


@pytest.mark.parametrize(
    "current, new, again, field, words",
    [
        ("wrong-password", NEW_PASSWORD, None, "password-current_password", "not right"),
        ("", NEW_PASSWORD, None, "password-current_password", "current password"),
        (TEST_PASSWORD, "password", None, "password-new_password", "too common"),
        (TEST_PASSWORD, "short1", None, "password-new_password", "too short"),
        (TEST_PASSWORD, NEW_PASSWORD, "plum-orbit-kettle-2932", "password-new_password_again", "match"),
    ],
)
@pytest.mark.django_db
def test_password_change_errors_are_shown_next_to_their_field(tenant_a, current, new, again, field, words):
    services.api_token_create(user=tenant_a.member.user, business=tenant_a.business)

    response = _change_password(_client(tenant_a.member), current, new, again)

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert User.objects.get(pk=tenant_a.member.user.pk).check_password(TEST_PASSWORD)
    assert ApiToken.objects.filter(user=tenant_a.member.user).exists()
    assert not AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED).exists()


@pytest.mark.django_db
def test_guessing_the_current_password_is_stopped(tenant_a):
    client = _client(tenant_a.member)
    for _ in range(services.ACCOUNT_PASSWORD_TRIES):
        _change_password(client, current="wrong-password")

    response = _change_password(client)  # even the right one, for a while

    assert "Too many wrong passwords" in _field_error(response, "password-current_password")
    assert User.objects.get(pk=tenant_a.member.user.pk).check_password(TEST_PASSWORD)


# --- garbage ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"form": "nonsense"},
        {"form": ["name", "email"]},
        {"form": "name", "name-full_name": "\x00" * 200},
        {"form": "email", "email-new_email": "a@b.c" * 100, "email-password": "p" * 10_000},
        {"form": "password", "password-current_password": "\x00", "password-new_password": "y" * 10_000},
    ],
)
@pytest.mark.django_db
def test_garbage_never_fails(tenant_a, data):
    response = _client(tenant_a.member).post(ACCOUNT, data)
    assert response.status_code in (200, 302)
    assert User.objects.get(pk=tenant_a.member.user.pk).check_password(TEST_PASSWORD)
