"""Account pages: sign up, log in (and its lock), log out, password reset, Settings (business, team, invitations,
API tokens), switching business; roles, other businesses' ids (404), bad input, and query counts."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.middleware import SESSION_BUSINESS_KEY
from accounts.models import ApiToken, Business, Invitation, Membership, Role, User
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

STRONG_PASSWORD = "plum-orbit-kettle-2931"
LOCKED = "Too many failed attempts. Try again in 15 minutes or reset your password."


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # bcrypt is slow on purpose; these tests are about the pages, tests/accounts covers the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(membership=None) -> Client:
    client = Client()
    if membership is not None:
        client.force_login(membership.user)
    return client


def _field_error(response, field: str) -> str:
    """The error text shown right under `field` (empty when there is none)."""
    html = response.content.decode()
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def _signup_data(**overrides):
    data = {
        "business_name": "Ana's Bakery",
        "email": "ana@example.com",
        "password": STRONG_PASSWORD,
        "confirm_age": "on",
        "accept_terms": "on",
        **overrides,
    }
    return {key: value for key, value in data.items() if value is not None}


def _link_path(body: str) -> str:
    url = re.search(r"https?://\S+", body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


# --- sign up ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_page_links_the_terms_and_privacy_policy():
    response = Client().get(reverse("signup"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("terms")}"' in html and f'href="{reverse("privacy")}"' in html
    assert "I am 18 or older" in html
    assert '<label for="id_email">' in html


@pytest.mark.django_db
def test_signup_creates_the_owner_logs_in_and_opens_the_overview():
    client = Client()
    response = client.post(reverse("signup"), _signup_data())

    assert response.status_code == 302
    assert response.url == reverse("dashboard:overview")
    user = User.objects.get(email="ana@example.com")
    assert user.confirmed_age_at and user.accepted_terms_at
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER and membership.business.name == "Ana's Bakery"
    assert client.session[SESSION_BUSINESS_KEY] == membership.business_id
    assert client.get(reverse("dashboard:overview")).status_code == 200


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"email": "taken@example.com"}, "email", "already exists"),
        ({"password": "password"}, "password", "too common"),
        ({"password": "short1"}, "password", "too short"),
        ({"confirm_age": None}, "confirm_age", "18 or older"),
        ({"accept_terms": None}, "accept_terms", "accept the terms"),
        ({"email": "not an email"}, "email", "valid email"),
        ({"business_name": "   "}, "business_name", "business name"),
        ({"business_name": "x" * 5000}, "business_name", "at most 120"),
    ],
)
@pytest.mark.django_db
def test_signup_errors_are_shown_next_to_their_field(overrides, field, words):
    UserFactory(email="taken@example.com")

    response = Client().post(reverse("signup"), _signup_data(**overrides))

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert not Business.objects.filter(name="Ana's Bakery").exists()


@pytest.mark.parametrize("contact", ["help@anasbakery.example", "(415) 555-0100", "+1 415 555 0100 ext. 2",
                                     "https://anasbakery.example/help", "anasbakery.example"])  # fmt: skip
@pytest.mark.django_db
def test_signup_asks_for_the_support_contact_that_help_replies_send(contact):
    client = Client()
    assert "Support contact" in client.get(reverse("signup")).content.decode()

    response = client.post(reverse("signup"), _signup_data(support_contact=f"  {contact} "))

    assert response.status_code == 302
    assert Business.objects.get(name="Ana's Bakery").support_contact == contact


@pytest.mark.parametrize("contact", ["ask at the counter", "12345", "@@", "x" * 300])
@pytest.mark.django_db
def test_signup_refuses_a_support_contact_nobody_could_use(contact):
    response = Client().post(reverse("signup"), _signup_data(support_contact=contact))

    assert response.status_code == 200
    error = _field_error(response, "support_contact")
    assert "phone number, email address or web address" in error or "at most 255" in error
    assert not Business.objects.filter(name="Ana's Bakery").exists()


@pytest.mark.django_db
def test_signup_without_a_support_contact_leaves_it_to_settings():
    assert Client().post(reverse("signup"), _signup_data()).status_code == 302

    assert Business.objects.get(name="Ana's Bakery").support_contact == ""


@pytest.mark.django_db
def test_signup_with_an_existing_email_in_other_case_is_refused():
    UserFactory(email="taken@example.com")

    response = Client().post(reverse("signup"), _signup_data(email="TAKEN@Example.com"))

    assert "already exists" in _field_error(response, "email")


@pytest.mark.django_db
def test_signup_garbage_never_fails():
    for data in ({}, {"email": "\x00" * 300, "password": "p" * 10_000, "confirm_age": "maybe"}):
        assert Client().post(reverse("signup"), data).status_code == 200


# --- log in, the lock, log out ----------------------------------------------------------------------------------------


def _login(client, email, password=TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


@pytest.mark.django_db
def test_login_with_email_opens_the_overview(tenant_a):
    client = Client()
    response = _login(client, tenant_a.owner.user.email.upper())

    assert response.status_code == 302 and response.url == reverse("dashboard:overview")
    assert client.get(reverse("dashboard:overview")).status_code == 200


@pytest.mark.django_db
def test_login_with_a_wrong_password_says_so(tenant_a):
    response = _login(Client(), tenant_a.owner.user.email, "wrong-password")

    assert response.status_code == 200
    assert "don&#x27;t match" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.django_db
def test_login_locks_after_five_failures_for_an_email_and_names_the_wait(tenant_a):
    email = tenant_a.owner.user.email
    client = Client()
    for _ in range(4):
        assert LOCKED not in _login(client, email, "wrong-password").content.decode()

    fifth = _login(client, email, "wrong-password")
    assert LOCKED in fifth.content.decode()

    # Locked: even the right password is refused, from any address.
    right = _login(Client(REMOTE_ADDR="203.0.113.9"), email)
    assert right.status_code == 200 and LOCKED in right.content.decode()
    # Another person from the same address can still log in.
    assert _login(client, tenant_a.admin.user.email).status_code == 302


ONE_MORE = "One more wrong password locks logging in for 15 minutes."


@pytest.mark.parametrize("known", [True, False], ids=["known-email", "unknown-email"])
@pytest.mark.django_db
def test_login_warns_how_many_attempts_are_left_before_the_lock(tenant_a, known):
    email = tenant_a.owner.user.email if known else "nobody@example.com"
    client = Client()
    errors = []
    for _ in range(5):
        html = _login(client, email, "wrong-password").content.decode()
        errors.append(re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', html, re.S).group(1))

    assert "attempt" not in errors[0] and "locks" not in errors[0] and "locks" not in errors[1]
    assert "2 more wrong passwords lock logging in for 15 minutes." in errors[2]
    assert ONE_MORE in errors[3] and "don&#x27;t match" in errors[3]
    assert LOCKED in errors[4]


@pytest.mark.django_db
def test_the_warning_is_the_same_whether_or_not_the_email_has_an_account(tenant_a):
    pages = []
    for email in (tenant_a.owner.user.email, "nobody@example.com"):
        client = Client()
        for _ in range(4):
            response = _login(client, email, "wrong-password")
        pages.append(response.content.decode().replace(email, "EMAIL"))

    assert ONE_MORE in pages[0]
    assert re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", pages[0]) == re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', "", pages[1]
    )


@pytest.mark.django_db
def test_a_successful_login_starts_the_count_again(tenant_a):
    email = tenant_a.owner.user.email
    for _ in range(3):
        _login(Client(), email, "wrong-password")
    assert _login(Client(), email).status_code == 302

    html = _login(Client(), email, "wrong-password").content.decode()
    assert "more wrong password" not in html


@pytest.mark.django_db
def test_login_lock_expires_after_fifteen_minutes(tenant_a, monkeypatch):
    email = tenant_a.owner.user.email
    for _ in range(5):
        _login(Client(), email, "wrong-password")
    assert services.login_lock_remaining(email=email, ip=None) > 14 * 60

    later = services.time.time() + 15 * 60 + 1
    monkeypatch.setattr(services.time, "time", lambda: later)
    assert services.login_lock_remaining(email=email, ip=None) == 0


@pytest.mark.django_db
def test_login_locks_an_address_that_fails_for_many_emails(tenant_a):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(services.LOGIN_FAILURES_PER_IP):
        _login(client, f"guess{n}@example.com", "wrong-password")

    response = _login(client, tenant_a.owner.user.email)
    assert LOCKED in response.content.decode()
    assert _login(Client(REMOTE_ADDR="198.51.100.8"), tenant_a.owner.user.email).status_code == 302


@pytest.mark.django_db
def test_login_garbage_never_fails():
    for data in ({}, {"username": "x" * 5000, "password": "y" * 5000}, {"username": "a@b.c", "password": ""}):
        assert Client().post(reverse("login"), data).status_code == 200


@pytest.mark.django_db
def test_logout_needs_post(tenant_a):
    client = _client(tenant_a.owner)

    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("dashboard:settings")).status_code == 200

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("dashboard:settings")).status_code == 302


# --- password reset ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_reset_emails_a_link_that_sets_a_new_password_and_lifts_the_lock(tenant_a, settings):
    settings.PUBLIC_BASE_URL = "https://app.nextalerts.test"
    user = tenant_a.owner.user
    for _ in range(5):
        _login(Client(), user.email, "wrong-password")

    client = Client()
    response = client.post(reverse("password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert "https://app.nextalerts.test/reset/" in mail.outbox[0].body

    response = client.get(_link_path(mail.outbox[0].body), follow=True)
    assert "Choose a new password" in response.content.decode()
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("password_reset_complete")

    assert _login(Client(), user.email, STRONG_PASSWORD).status_code == 302
    # The link works once.
    reused = Client().get(_link_path(mail.outbox[0].body), follow=True)
    assert "doesn't work any more" in reused.content.decode()


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing():
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_emails_are_rate_limited_per_address(tenant_a):
    for _ in range(6):
        Client().post(reverse("password_reset"), {"email": tenant_a.owner.user.email})

    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_password_reset_garbage_never_fails():
    assert Client().post(reverse("password_reset"), {"email": "x" * 5000}).status_code == 200
    assert Client().get("/reset/garbage/garbage/").status_code == 200
    assert Client().get("/reset/" + "A" * 3000 + "/set-password/").status_code == 200


# --- no business ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_without_a_business_is_sent_to_create_one():
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse("dashboard:settings"))
    assert response.status_code == 302 and response.url == reverse("no-business")
    assert "not part of a business" in client.get(reverse("no-business")).content.decode()

    assert "business name" in _field_error(client.post(reverse("no-business"), {"name": " "}), "name")
    response = client.post(reverse("no-business"), {"name": "Corner Shop"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:settings")).status_code == 200
    assert Business.objects.get(name="Corner Shop").memberships.get().role == Role.OWNER


@pytest.mark.django_db
def test_no_business_page_sends_members_to_their_dashboard(tenant_a):
    assert _client(tenant_a.member).get(reverse("no-business")).status_code == 302
    assert Client().get(reverse("no-business")).status_code == 302  # to log in


# --- settings: the business -------------------------------------------------------------------------------------------


def _profile(**overrides):
    return {
        "name": "Tony's Pizzeria",
        "address": "1 Main St",
        "phone": "(202) 555-0100",
        "support_contact": "help@tonys.example",
        "time_zone": "America/Chicago",
        "marketing_messages_per_day": "2",
        "category": "pizza shop",
        **overrides,
    }


@pytest.mark.django_db
def test_members_read_the_business_details_without_a_form(tenant_a):
    response = _client(tenant_a.member).get(reverse("dashboard:settings"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only owners can change" in html and 'name="support_contact"' not in html
    assert html.count("<h1") == 1


@pytest.mark.django_db
def test_owner_edits_the_business_details(tenant_a):
    client = _client(tenant_a.owner)
    assert 'name="support_contact"' in client.get(reverse("dashboard:settings")).content.decode()

    response = client.post(reverse("dashboard:settings"), _profile())

    assert response.status_code == 302
    business = Business.objects.get(pk=tenant_a.business.pk)
    assert (business.name, business.time_zone, business.marketing_messages_per_day) == (
        "Tony's Pizzeria",
        "America/Chicago",
        2,
    )
    assert business.support_contact == "help@tonys.example"
    assert business.category == "pizza shop"  # what the campaign writer is told the business is


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.django_db
def test_only_owners_may_change_the_business_details(tenant_a, role):
    response = _client(getattr(tenant_a, role)).post(reverse("dashboard:settings"), _profile())

    assert response.status_code == 403
    assert Business.objects.get(pk=tenant_a.business.pk).name == "Tony's Pizza"


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"name": ""}, "name", "enter your business name"),
        ({"name": "n" * 500}, "name", "at most 120"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "valid choice"),
        ({"marketing_messages_per_day": "0"}, "marketing_messages_per_day", "greater than or equal to 1"),
        ({"marketing_messages_per_day": "lots"}, "marketing_messages_per_day", "whole number"),
        ({"marketing_messages_per_day": "9" * 40}, "marketing_messages_per_day", "less than or equal to 50"),
        ({"support_contact": "s" * 1000}, "support_contact", "at most 255"),
    ],
)
@pytest.mark.django_db
def test_business_details_errors_are_shown_next_to_their_field(tenant_a, overrides, field, words):
    response = _client(tenant_a.owner).post(reverse("dashboard:settings"), _profile(**overrides))

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert Business.objects.get(pk=tenant_a.business.pk).name == "Tony's Pizza"


# --- switching business -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_switch_business_to_one_the_user_belongs_to(tenant_a, tenant_b):
    user = tenant_a.owner.user
    MembershipFactory(user=user, business=tenant_b.business, role=Role.MEMBER)
    client = _client(tenant_a.owner)
    assert "Your businesses" in client.get(reverse("dashboard:settings")).content.decode()

    response = client.post(reverse("dashboard:switch-business"), {"business": tenant_b.business.pk})

    assert response.status_code == 302
    assert client.session[SESSION_BUSINESS_KEY] == tenant_b.business.pk
    assert client.get(reverse("dashboard:settings")).context["business"] == tenant_b.business


@pytest.mark.parametrize("value", ["other", "abc", "", "-1", "9" * 40])
@pytest.mark.django_db
def test_switch_business_refuses_a_business_the_user_is_not_in(tenant_a, tenant_b, value):
    client = _client(tenant_a.owner)
    business = tenant_b.business.pk if value == "other" else value

    response = client.post(reverse("dashboard:switch-business"), {"business": business})

    assert response.status_code == 404
    assert SESSION_BUSINESS_KEY not in client.session
    assert client.get(reverse("dashboard:switch-business")).status_code == 405


@pytest.mark.django_db
def test_switch_business_ignores_an_outside_next_address(tenant_a, tenant_b):
    MembershipFactory(user=tenant_a.owner.user, business=tenant_b.business)

    response = _client(tenant_a.owner).post(
        reverse("dashboard:switch-business"), {"business": tenant_b.business.pk, "next": "https://evil.example/"}
    )

    assert response.url == reverse("dashboard:overview")


# --- team and invitations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.django_db
def test_every_member_sees_the_team(tenant_a, role):
    response = _client(getattr(tenant_a, role)).get(reverse("dashboard:team"))

    assert response.status_code == 200
    html = response.content.decode()
    for membership in (tenant_a.owner, tenant_a.admin, tenant_a.member):
        assert membership.user.email in html
    assert ("Invite someone" in html) == (role == "owner")


@pytest.mark.django_db
def test_invite_email_accept_as_a_new_person_joins_with_the_role(tenant_a, settings):
    settings.PUBLIC_BASE_URL = "https://app.nextalerts.test"
    owner = _client(tenant_a.owner)

    response = owner.post(reverse("dashboard:team"), {"email": "New.Hire@Example.com", "role": "admin"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.hire@example.com"]
    assert "Tony's Pizza" in mail.outbox[0].subject
    body = mail.outbox[0].body
    assert "https://app.nextalerts.test/invitations/" in body
    invitation = Invitation.objects.get(business=tenant_a.business)
    assert invitation.token_hash not in body  # only the digest is stored; the link carries the token
    assert "new.hire@example.com" in owner.get(reverse("dashboard:team")).content.decode()

    guest = Client()
    link = _link_path(body)
    page = guest.get(link)
    assert page.status_code == 200 and "Create your account to join" in page.content.decode()

    incomplete = guest.post(link, {"password": STRONG_PASSWORD})
    assert "18 or older" in _field_error(incomplete, "confirm_age")
    assert "terms" in _field_error(incomplete, "accept_terms")
    weak = guest.post(link, {"password": "password", "confirm_age": "on", "accept_terms": "on"})
    assert _field_error(weak, "password")

    response = guest.post(link, {"password": STRONG_PASSWORD, "confirm_age": "on", "accept_terms": "on"})
    assert response.status_code == 302 and response.url == reverse("dashboard:overview")
    user = User.objects.get(email="new.hire@example.com")
    assert user.confirmed_age_at and user.accepted_terms_at
    assert Membership.objects.get(user=user, business=tenant_a.business).role == Role.ADMIN
    assert guest.get(reverse("dashboard:settings")).context["business"] == tenant_a.business

    # Used: the link now gives a friendly not-found page.
    again = Client().get(link)
    assert again.status_code == 404 and "expired" in again.content.decode()


@pytest.mark.django_db
def test_invitation_for_a_logged_in_person_joins_with_one_click(tenant_a, tenant_b):
    person = tenant_b.member.user
    invitation, token = services.invitation_create(
        business=tenant_a.business, email=person.email, role=Role.MEMBER, invited_by=tenant_a.owner.user
    )
    link = reverse("invitation-accept", kwargs={"token": token})

    assert "Log in to join" in Client().get(link).content.decode()
    client = _client(tenant_b.member)
    assert "Join Tony" in client.get(link).content.decode()
    response = client.post(link)

    assert response.status_code == 302
    assert Membership.objects.filter(user=person, business=tenant_a.business, role=Role.MEMBER).exists()
    assert client.session[SESSION_BUSINESS_KEY] == tenant_a.business.pk


@pytest.mark.django_db
def test_invitation_opened_by_someone_else_does_not_join_them(tenant_a, tenant_b):
    _invitation, token = services.invitation_create(
        business=tenant_a.business, email="someone@example.com", role=Role.OWNER, invited_by=tenant_a.owner.user
    )
    link = reverse("invitation-accept", kwargs={"token": token})
    client = _client(tenant_b.owner)

    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert not Membership.objects.filter(user=tenant_b.owner.user, business=tenant_a.business).exists()


@pytest.mark.parametrize("token", ["unknown", "x" * 3000, "%00", "expired", "cancelled"])
@pytest.mark.django_db
def test_bad_invitation_links_get_a_friendly_page(tenant_a, token):
    invitation, real = services.invitation_create(
        business=tenant_a.business, email="late@example.com", role=Role.MEMBER, invited_by=tenant_a.owner.user
    )
    if token == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        token = real
    elif token == "cancelled":
        services.invitation_cancel(invitation=invitation)
        token = real

    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/invitations/{token}/")
        assert response.status_code == 404
        assert "Ask the person who invited you" in response.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


@pytest.mark.django_db
def test_invitations_expire_after_seven_days(tenant_a):
    invitation, _token = services.invitation_create(
        business=tenant_a.business, email="x@example.com", role=Role.MEMBER, invited_by=tenant_a.owner.user
    )
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"email": "member", "role": "member"}, "email", "already in"),
        ({"email": "not-an-email", "role": "member"}, "email", "valid email"),
        ({"email": "a@example.com", "role": "superuser"}, "role", "valid choice"),
        ({"email": "a" * 5000 + "@example.com", "role": "member"}, "email", "valid email"),
    ],
)
@pytest.mark.django_db
def test_invite_errors_are_shown_next_to_their_field(tenant_a, data, field, words):
    if data["email"] == "member":
        data = {**data, "email": tenant_a.member.user.email.upper()}

    response = _client(tenant_a.owner).post(reverse("dashboard:team"), data)

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.django_db
def test_only_owners_invite_change_roles_and_cancel(tenant_a, role):
    client = _client(getattr(tenant_a, role))
    invitation, _token = services.invitation_create(
        business=tenant_a.business, email="x@example.com", role=Role.MEMBER, invited_by=tenant_a.owner.user
    )

    assert client.post(reverse("dashboard:team"), {"email": "y@example.com", "role": "owner"}).status_code == 403
    url = reverse("dashboard:team-role", args=[tenant_a.member.pk])
    assert client.post(url, {"role": "owner"}).status_code == 403
    assert client.post(reverse("dashboard:invitation-cancel", args=[invitation.pk])).status_code == 403
    assert client.post(reverse("dashboard:team-remove", args=[tenant_a.owner.pk])).status_code == 403
    assert Invitation.objects.count() == 1
    assert Membership.objects.get(pk=tenant_a.member.pk).role == Role.MEMBER
    assert Membership.objects.filter(pk=tenant_a.owner.pk).exists()


@pytest.mark.django_db
def test_owner_changes_a_role_and_removes_a_member(tenant_a):
    client = _client(tenant_a.owner)

    response = client.post(reverse("dashboard:team-role", args=[tenant_a.member.pk]), {"role": "admin"})
    assert response.status_code == 302
    assert Membership.objects.get(pk=tenant_a.member.pk).role == Role.ADMIN

    services.api_token_create(user=tenant_a.admin.user, business=tenant_a.business, name="admin's")
    assert client.post(reverse("dashboard:team-remove", args=[tenant_a.admin.pk])).status_code == 302
    assert not Membership.objects.filter(pk=tenant_a.admin.pk).exists()
    assert not ApiToken.objects.filter(user=tenant_a.admin.user).exists()


@pytest.mark.django_db
def test_the_last_owner_can_neither_step_down_nor_leave(tenant_a):
    client = _client(tenant_a.owner)

    response = client.post(reverse("dashboard:team-role", args=[tenant_a.owner.pk]), {"role": "member"}, follow=True)
    assert "must keep at least one owner" in response.content.decode()
    response = client.post(reverse("dashboard:team-remove", args=[tenant_a.owner.pk]), follow=True)
    assert "must keep at least one owner" in response.content.decode()
    assert Membership.objects.get(pk=tenant_a.owner.pk).role == Role.OWNER

    # With a second owner, the first may step down.
    client.post(reverse("dashboard:team-role", args=[tenant_a.admin.pk]), {"role": "owner"})
    client.post(reverse("dashboard:team-role", args=[tenant_a.owner.pk]), {"role": "member"})
    assert Membership.objects.get(pk=tenant_a.owner.pk).role == Role.MEMBER


SOLE_OWNER = "You are the only owner: make someone else owner first"


def _leave_button(html: str, membership) -> str:
    """The Leave/Remove button of `membership`'s row on the team page."""
    action = reverse("dashboard:team-remove", args=[membership.pk])
    found = re.search(rf'action="{re.escape(action)}".*?(<button[^>]*>.*?</button>)', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.django_db
def test_the_sole_owners_leave_button_is_disabled_with_the_reason(tenant_a):
    html = _client(tenant_a.owner).get(reverse("dashboard:team")).content.decode()

    button = _leave_button(html, tenant_a.owner)
    assert "Leave" in button and " disabled" in button
    assert SOLE_OWNER in html
    # The owner may still remove the others.
    assert " disabled" not in _leave_button(html, tenant_a.admin)


@pytest.mark.django_db
def test_with_a_second_owner_each_owner_may_leave(tenant_a):
    services.membership_change_role(membership=tenant_a.admin, role=Role.OWNER)

    html = _client(tenant_a.owner).get(reverse("dashboard:team")).content.decode()

    assert " disabled" not in _leave_button(html, tenant_a.owner)
    assert SOLE_OWNER not in html
    assert _client(tenant_a.owner).post(reverse("dashboard:team-remove", args=[tenant_a.owner.pk])).status_code == 302
    assert not Membership.objects.filter(pk=tenant_a.owner.pk).exists()


@pytest.mark.django_db
def test_a_member_may_leave(tenant_a):
    client = _client(tenant_a.member)

    response = client.post(reverse("dashboard:team-remove", args=[tenant_a.member.pk]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=tenant_a.member.pk).exists()
    assert client.get(reverse("dashboard:settings")).url == reverse("no-business")


@pytest.mark.django_db
def test_owner_cancels_an_invitation(tenant_a):
    invitation, token = services.invitation_create(
        business=tenant_a.business, email="x@example.com", role=Role.MEMBER, invited_by=tenant_a.owner.user
    )

    response = _client(tenant_a.owner).post(reverse("dashboard:invitation-cancel", args=[invitation.pk]))

    assert response.status_code == 302
    assert not Invitation.objects.exists()
    assert Client().get(reverse("invitation-accept", kwargs={"token": token})).status_code == 404


@pytest.mark.django_db
def test_team_garbage_never_fails(tenant_a):
    client = _client(tenant_a.owner)
    role_url = reverse("dashboard:team-role", args=[tenant_a.member.pk])

    assert client.post(role_url, {"role": "x" * 500}).status_code == 302
    assert client.post(role_url, {}).status_code == 302
    assert client.get("/app/settings/team/abc/remove/").status_code == 404
    assert client.post("/app/settings/team/" + "9" * 30 + "/remove/").status_code == 404
    assert client.get(reverse("dashboard:team-role", args=[tenant_a.member.pk])).status_code == 405
    assert client.post(reverse("dashboard:team"), {"email": "\x00", "role": ""}).status_code == 200


# --- API tokens -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_creates_a_token_shown_once_that_works_against_the_api(tenant_a):
    client = _client(tenant_a.owner)

    response = client.post(reverse("dashboard:tokens"), {"name": "Website form", "lifetime": "7"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Copy this token now" in html
    secret = re.search(r'id="token-secret"[^>]*value="([^"]+)"', html).group(1)
    token = ApiToken.objects.get(business=tenant_a.business, name="Website form")
    assert token.user == tenant_a.owner.user
    assert timedelta(days=6) < token.expiry - timezone.now() <= timedelta(days=7)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/subscribers/").status_code == 200

    listing = client.get(reverse("dashboard:tokens")).content.decode()
    assert "Website form" in listing and secret not in listing


@pytest.mark.django_db
def test_owner_revokes_a_token(tenant_a):
    token, secret = services.api_token_create(user=tenant_a.admin.user, business=tenant_a.business, name="POS")

    response = _client(tenant_a.owner).post(reverse("dashboard:token-revoke", args=[token.token_key]))

    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/subscribers/").status_code == 401


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.django_db
def test_only_owners_see_and_manage_tokens(tenant_a, role):
    token, _secret = services.api_token_create(user=tenant_a.owner.user, business=tenant_a.business, name="POS")
    client = _client(getattr(tenant_a, role))

    assert client.get(reverse("dashboard:tokens")).status_code == 403
    assert client.post(reverse("dashboard:tokens"), {"name": "mine", "lifetime": "7"}).status_code == 403
    assert client.post(reverse("dashboard:token-revoke", args=[token.token_key])).status_code == 403
    assert ApiToken.objects.filter(business=tenant_a.business).count() == 1
    assert "API tokens" not in client.get(reverse("dashboard:settings")).content.decode()


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"name": "", "lifetime": "7"}, "name", "give the token a name"),
        ({"name": "   ", "lifetime": "7"}, "name", "give the token a name"),
        ({"name": "n" * 5000, "lifetime": "7"}, "name", "at most 100"),
        ({"name": "ok", "lifetime": "36500"}, "lifetime", "valid choice"),
        ({"name": "ok", "lifetime": "abc"}, "lifetime", "valid choice"),
    ],
)
@pytest.mark.django_db
def test_token_form_errors_are_shown_next_to_their_field(tenant_a, data, field, words):
    response = _client(tenant_a.owner).post(reverse("dashboard:tokens"), data)

    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("query", ["?page=abc", "?page=99999", "?page=-1", "?page=" + "9" * 50])
@pytest.mark.django_db
def test_tokens_page_garbage_never_fails(tenant_a, query):
    client = _client(tenant_a.owner)

    assert client.get(reverse("dashboard:tokens") + query).status_code == 200
    assert client.post("/app/settings/tokens/" + "z" * 500 + "/revoke/").status_code == 404


# --- other businesses' ids are 404 ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_businesss_members_tokens_and_invitations_are_not_found(tenant_a, tenant_b):
    token, _secret = services.api_token_create(user=tenant_b.owner.user, business=tenant_b.business, name="B")
    invitation, _token = services.invitation_create(
        business=tenant_b.business, email="b@example.com", role=Role.MEMBER, invited_by=tenant_b.owner.user
    )
    client = _client(tenant_a.owner)

    assert client.post(reverse("dashboard:team-remove", args=[tenant_b.member.pk])).status_code == 404
    assert client.post(reverse("dashboard:team-role", args=[tenant_b.member.pk]), {"role": "owner"}).status_code == 404
    assert client.post(reverse("dashboard:token-revoke", args=[token.token_key])).status_code == 404
    assert client.post(reverse("dashboard:invitation-cancel", args=[invitation.pk])).status_code == 404

    assert Membership.objects.get(pk=tenant_b.member.pk).role == Role.MEMBER
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    listing = client.get(reverse("dashboard:team")).content.decode()
    assert tenant_b.member.user.email not in listing and "b@example.com" not in listing


# --- query counts -----------------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_team_page_queries_do_not_grow_with_the_team(tenant_a):
    client = _client(tenant_a.owner)
    for n in range(3):
        services.invitation_create(
            business=tenant_a.business, email=f"i{n}@example.com", role=Role.MEMBER, invited_by=tenant_a.owner.user
        )
    few = _queries(client, reverse("dashboard:team"))

    for n in range(27):
        MembershipFactory(business=tenant_a.business, role=Role.MEMBER)
        services.invitation_create(
            business=tenant_a.business, email=f"j{n}@example.com", role=Role.ADMIN, invited_by=tenant_a.admin.user
        )
    assert _queries(client, reverse("dashboard:team")) == few


@pytest.mark.django_db
def test_tokens_page_queries_do_not_grow_with_the_tokens(tenant_a):
    client = _client(tenant_a.owner)
    for n in range(3):
        services.api_token_create(user=tenant_a.owner.user, business=tenant_a.business, name=f"t{n}")
    few = _queries(client, reverse("dashboard:tokens"))

    for n in range(27):
        user = (tenant_a.owner, tenant_a.admin, tenant_a.member)[n % 3].user
        services.api_token_create(user=user, business=tenant_a.business, name=f"u{n}")
    assert _queries(client, reverse("dashboard:tokens")) == few


@pytest.mark.parametrize("contact", ["ask at the counter", "12345", "@@"])
def test_settings_refuses_a_support_contact_nobody_could_use_as_signup_does(tenant_a, contact):
    """What HELP replies send is checked the same way wherever it is set: at signup and in Settings."""
    from tests.subscribers.test_join_form_own_pages import _profile, _settings_client

    tenant_a.business.support_contact = "help@tonys.example"
    tenant_a.business.save()
    response = _settings_client(tenant_a.owner).post(
        reverse("dashboard:settings"), _profile(tenant_a.business, support_contact=contact)
    )

    assert response.status_code == 200
    assert "phone number, email address or web address" in _field_error(response, "support_contact")
    assert Business.objects.get(pk=tenant_a.business.pk).support_contact == "help@tonys.example"


def test_settings_keeps_a_usable_support_contact_trimmed(tenant_a):
    from tests.subscribers.test_join_form_own_pages import _profile, _settings_client

    _settings_client(tenant_a.owner).post(
        reverse("dashboard:settings"), _profile(tenant_a.business, support_contact="  (202) 555-0100 ")
    )

    assert Business.objects.get(pk=tenant_a.business.pk).support_contact == "(202) 555-0100"
