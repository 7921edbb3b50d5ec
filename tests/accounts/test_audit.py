"""The security audit log: each security-relevant action writes one AuditEvent naming who, what, for which business,
when and from which address, never a password or a subscriber's phone number; the admin shows it read-only."""

import json

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, AuditEvent, Invitation, Role, User
from consent.models import Suppression
from tests.factories import TEST_PASSWORD, UserFactory
from tests.helpers import api_client

IP = "203.0.113.77"
PHONE = "+12025550166"
WRONG = "Wrong-Password-Sentinel-42"
Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _request(user, business, path="/app/"):
    request = RequestFactory().post(path, REMOTE_ADDR=IP)
    request.user = user
    request.business = business
    return request


def _only(action) -> AuditEvent:
    (event,) = AuditEvent.objects.filter(action=action)
    return event


def _row_text(event: AuditEvent) -> str:
    return " ".join([event.actor_email, event.target, json.dumps(event.details), str(event)])


def _assert_no_secrets():
    for event in AuditEvent.objects.all():
        text = _row_text(event)
        assert WRONG not in text and TEST_PASSWORD not in text
        assert PHONE not in text and PHONE[2:] not in text


# --- log-ins ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dashboard_login_and_logout_are_recorded(tenant_a):
    user = tenant_a.owner.user
    client = Client(REMOTE_ADDR=IP)
    assert client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD}).status_code == 302

    login = _only(Action.LOGIN)
    assert (login.actor, login.actor_email, login.business, login.ip) == (user, user.email, tenant_a.business, IP)

    client.post(reverse("logout"))
    logout = _only(Action.LOGOUT)
    assert (logout.actor, logout.business, logout.ip) == (user, tenant_a.business, IP)
    _assert_no_secrets()


@pytest.mark.django_db
def test_a_failed_dashboard_login_records_the_address_tried_never_the_password(tenant_a):
    email = tenant_a.owner.user.email
    Client(REMOTE_ADDR=IP).post(reverse("login"), {"username": email.upper(), "password": WRONG})

    event = _only(Action.LOGIN_FAILED)
    assert (event.actor, event.actor_email, event.ip, event.business) == (None, email, IP, None)
    assert event.details == {"email": email}
    assert not AuditEvent.objects.exclude(action=Action.LOGIN_FAILED).exists()
    _assert_no_secrets()


@pytest.mark.django_db
def test_a_failed_login_for_an_unknown_address_is_recorded_too():
    Client(REMOTE_ADDR=IP).post(reverse("login"), {"username": "nobody@example.com", "password": WRONG})
    assert _only(Action.LOGIN_FAILED).actor_email == "nobody@example.com"


@pytest.mark.django_db
def test_api_login_failure_and_success_are_recorded(tenant_a):
    user = tenant_a.owner.user
    client = APIClient(REMOTE_ADDR=IP)
    client.post("/api/v1/auth/login/", {"email": user.email, "password": WRONG}, format="json")
    failed = _only(Action.LOGIN_FAILED)
    assert (failed.actor_email, failed.ip) == (user.email, IP)

    response = client.post("/api/v1/auth/login/", {"email": user.email, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    created = _only(Action.TOKEN_CREATED)
    token = ApiToken.objects.get(user=user)
    assert (created.actor, created.business, created.target) == (user, tenant_a.business, f"token:{token.token_key}")
    assert created.details["name"] == "login"
    _assert_no_secrets()


@pytest.mark.django_db
def test_api_logout_records_the_revocation(tenant_a):
    client = api_client(tenant_a.owner)
    token = ApiToken.objects.get(user=tenant_a.owner.user)
    client.post("/api/v1/auth/logout/", REMOTE_ADDR=IP)
    event = _only(Action.TOKEN_REVOKED)
    assert (event.business, event.target) == (tenant_a.business, f"token:{token.token_key}")
    assert event.details["owner"] == tenant_a.owner.user.email


# --- tokens and the team (services, given the request) ---------------------------------------------------------------


@pytest.mark.django_db
def test_token_created_and_revoked(tenant_a):
    owner = tenant_a.owner.user
    token, secret = services.api_token_create(
        user=owner, business=tenant_a.business, name="Till", request=_request(owner, tenant_a.business)
    )
    created = _only(Action.TOKEN_CREATED)
    assert (created.actor, created.business, created.ip) == (owner, tenant_a.business, IP)
    assert created.target == f"token:{token.token_key}" and secret not in _row_text(created)

    services.api_token_revoke(token=token, request=_request(owner, tenant_a.business))
    revoked = _only(Action.TOKEN_REVOKED)
    assert (revoked.actor, revoked.business, revoked.ip, revoked.target) == (
        owner,
        tenant_a.business,
        IP,
        created.target,
    )


@pytest.mark.django_db
def test_invited_joined_role_changed_and_removed(tenant_a):
    owner, business = tenant_a.owner.user, tenant_a.business
    invitation, token = services.invitation_create(
        business=business,
        email="New@Example.com",
        role=Role.MEMBER,
        invited_by=owner,
        request=_request(owner, business),
    )
    invited = _only(Action.MEMBER_INVITED)
    assert (invited.actor, invited.business, invited.ip) == (owner, business, IP)
    assert invited.details == {"invitee": "new@example.com", "role": "member"}
    assert invited.actor_email == owner.email  # the inviter, not the invitee

    newcomer = UserFactory(email="new@example.com")
    membership = services.invitation_accept(
        invitation=Invitation.objects.get(pk=invitation.pk), user=newcomer, request=_request(newcomer, None)
    )
    joined = _only(Action.MEMBER_JOINED)
    assert (joined.actor, joined.business, joined.ip) == (newcomer, business, IP)
    assert joined.target == f"membership:{membership.pk}"

    services.membership_change_role(membership=membership, role=Role.ADMIN, request=_request(owner, business))
    changed = _only(Action.ROLE_CHANGED)
    assert (changed.actor, changed.business, changed.ip) == (owner, business, IP)
    assert changed.details == {"member": "new@example.com", "from": "member", "to": "admin"}
    services.membership_change_role(membership=membership, role=Role.ADMIN, request=_request(owner, business))
    assert AuditEvent.objects.filter(action=Action.ROLE_CHANGED).count() == 1  # no change, nothing recorded

    membership_pk = membership.pk
    services.membership_remove(membership=membership, request=_request(owner, business))
    removed = _only(Action.MEMBER_REMOVED)
    assert (removed.actor, removed.business, removed.ip) == (owner, business, IP)
    assert removed.target == f"membership:{membership_pk}"


@pytest.mark.django_db
def test_a_refused_team_change_records_nothing(tenant_a):
    owner = tenant_a.owner.user
    with pytest.raises(services.TeamError):
        services.membership_change_role(
            membership=tenant_a.owner, role=Role.MEMBER, request=_request(owner, tenant_a.business)
        )
    with pytest.raises(services.TeamError):
        services.membership_remove(membership=tenant_a.owner, request=_request(owner, tenant_a.business))
    assert not AuditEvent.objects.filter(action__in=[Action.ROLE_CHANGED, Action.MEMBER_REMOVED]).exists()


@pytest.mark.django_db
def test_a_new_person_joining_by_invitation_is_recorded(tenant_a):
    invitation, token = services.invitation_create(
        business=tenant_a.business, email="fresh@example.com", role=Role.ADMIN, invited_by=tenant_a.owner.user
    )
    user, membership = services.invitation_accept_new_user(
        invitation=invitation,
        password="a-long-enough-passphrase-9",
        confirm_age=True,
        accept_terms=True,
        request=_request(User(), None),
    )
    joined = _only(Action.MEMBER_JOINED)
    assert (joined.actor, joined.business, joined.ip) == (user, tenant_a.business, IP)
    assert "a-long-enough-passphrase-9" not in _row_text(joined)


# --- the do-not-text list (through the dashboard and the API) --------------------------------------------------------


@pytest.mark.django_db
def test_manual_suppression_added_and_removed_in_the_dashboard(tenant_a):
    admin_user = tenant_a.admin.user
    client = Client(REMOTE_ADDR=IP)
    client.force_login(admin_user)
    AuditEvent.objects.all().delete()

    client.post(reverse("dashboard:suppressions"), {"add-phone": PHONE})
    client.post(reverse("dashboard:suppressions"), {"add-phone": PHONE})  # already there: nothing new
    added = _only(Action.SUPPRESSION_ADDED)
    suppression = Suppression.objects.get(business=tenant_a.business)
    assert (added.actor, added.business, added.ip) == (admin_user, tenant_a.business, IP)
    assert added.target == f"suppression:{suppression.pk}"

    client.post(reverse("dashboard:suppression-remove", args=[suppression.pk]))
    removed = _only(Action.SUPPRESSION_REMOVED)
    assert (removed.actor, removed.business, removed.ip, removed.target) == (
        admin_user,
        tenant_a.business,
        IP,
        added.target,
    )
    _assert_no_secrets()


@pytest.mark.django_db
def test_manual_suppression_through_the_api(tenant_a):
    client = api_client(tenant_a.admin)
    response = client.post("/api/v1/suppressions/", {"phone_number": PHONE}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 201
    added = _only(Action.SUPPRESSION_ADDED)
    assert (added.actor, added.business, added.ip) == (tenant_a.admin.user, tenant_a.business, IP)
    client.delete(f"/api/v1/suppressions/{response.json()['id']}/", REMOTE_ADDR=IP)
    assert _only(Action.SUPPRESSION_REMOVED).ip == IP
    _assert_no_secrets()


# --- the admin --------------------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="not-used"))
    return client


@pytest.mark.django_db
def test_the_admin_shows_the_log_read_only(tenant_a, superuser_client):
    services.api_token_create(user=tenant_a.owner.user, business=tenant_a.business)
    event = _only(Action.TOKEN_CREATED)
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = User.objects.get(email="root@example.com")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert model_admin.has_view_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)

    assert superuser_client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 200
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    assert superuser_client.get(change).status_code == 200
    assert superuser_client.post(change, {"action": "login", "target": "forged"}).status_code == 403
    assert superuser_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert superuser_client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.action == Action.TOKEN_CREATED and event.target.startswith("token:")
