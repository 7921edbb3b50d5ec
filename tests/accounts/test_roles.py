"""One role map for both doors: every action, through every API endpoint and dashboard page that does it, is allowed
to the same roles and refused to the others with a 403 that says which role it needs; another business's object is
"not found" through both.

The table below is the spec, written out by hand: (resource, action), the least role that may do it, and each door
(an API method and path, a dashboard method and page) that does it. A coverage test keeps every API route and every
dashboard page in the table.
"""

from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, resolve, reverse
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.models import ApiToken, Invitation, Membership, Role
from accounts.roles import API_ACTIONS, ROLE_MAP
from campaigns import services as campaign_services
from campaigns.models import Campaign
from consent import services as consent_services
from consent.models import ConsentEvent, Suppression
from messaging.models import Message
from nextalerts import dashboard_urls
from nextalerts.urls import router
from subscribers.models import Keyword, SenderNumber, Subscriber
from tests.factories import MembershipFactory
from tests.helpers import api_client, text_in
from tracking import services as tracking_services
from tracking.models import QRCode

SUBSCRIBER = "+12025550143"
MEMBER, ADMIN, OWNER = Role.MEMBER, Role.ADMIN, Role.OWNER
ROLES = [MEMBER, ADMIN, OWNER]


@dataclass(frozen=True)
class Door:
    """One way in: `kind` "api" (a path) or "dashboard" (a URL name); `target` names the object the request acts on
    (its id fills `{pk}`), for the cross-tenant check and to prove a refused request left it untouched."""

    kind: str
    method: str
    where: str
    data: dict | None = None
    target: str | None = None
    debug: bool = False  # the page exists only with DEBUG=true
    id_kwarg: str = "pk"
    openai: bool = False  # the action calls the AI provider: the fake OpenAI server answers

    def __str__(self):
        return f"{self.kind} {self.method.upper()} {self.where}"


def api(method, path, data=None, *, target=None, openai=False):
    return Door("api", method, path, data, target, openai=openai)


def page(method, name, data=None, *, target=None, debug=False, id_kwarg="pk", openai=False):
    return Door("dashboard", method, name, data, target, debug, id_kwarg, openai)


SUBSCRIBER_CHANGE = {"name": "Mallory", "notes": "VIP", "tags": ["vip"]}
CAMPAIGN = {"name": "Friday", "body": "Tony's Pizza: 2 for 1 tonight. Reply STOP to opt out.", "number": "{number}"}

# (resource, action, least role, doors). The same action through the API and the dashboard sits in one row.
TABLE = [
    ("overview", "view", MEMBER, [page("get", "overview")]),
    (
        "subscribers",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/subscribers/"),
            api("get", "/api/v1/subscribers/{pk}/", target="subscriber"),
            page("get", "subscribers"),
            page("get", "subscriber", target="subscriber"),
        ],
    ),
    ("subscribers", "export", MEMBER, [page("get", "subscribers-export")]),
    (
        "subscribers",
        "change",
        ADMIN,
        [
            api("patch", "/api/v1/subscribers/{pk}/", {"notes": "VIP"}, target="subscriber"),
            api("patch", "/api/v1/subscribers/{pk}/", {"tags": ["vip"]}, target="subscriber"),
            api("put", "/api/v1/subscribers/{pk}/", SUBSCRIBER_CHANGE, target="subscriber"),
            page("post", "subscriber", {**SUBSCRIBER_CHANGE, "tags": "vip"}, target="subscriber"),
        ],
    ),
    (
        "messages",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/messages/"),
            api("get", "/api/v1/messages/{pk}/", target="message"),
            page("get", "inbox"),
        ],
    ),
    (
        "messages",
        "send",
        ADMIN,
        [
            api("post", "/api/v1/messages/", {"to": SUBSCRIBER, "body": "Your table is ready."}),
            page("post", "inbox-reply", {"phone": SUBSCRIBER, "body": "Your table is ready."}),
        ],
    ),
    (
        "numbers",
        "view",
        MEMBER,
        [api("get", "/api/v1/numbers/"), api("get", "/api/v1/numbers/{pk}/", target="number"), page("get", "numbers")],
    ),
    (
        "numbers",
        "create",
        ADMIN,
        [
            api("post", "/api/v1/numbers/", {"phone_number": "+12025550199"}),
            page("get", "number-create"),
            page("post", "number-create", {"phone_number": "+12025550199", "messages_per_second": 1}),
        ],
    ),
    (
        "numbers",
        "change",
        ADMIN,
        [
            page("get", "number-edit", target="number"),
            page("post", "number-edit", {"messaging_profile_id": "", "messages_per_second": 2}, target="number"),
        ],
    ),
    (
        "numbers",
        "delete",
        ADMIN,
        [
            api("delete", "/api/v1/numbers/{pk}/", target="number"),
            page("get", "number-delete", target="number"),
            page("post", "number-delete", target="number"),
        ],
    ),
    (
        "keywords",
        "view",
        MEMBER,
        [api("get", "/api/v1/keywords/"), api("get", "/api/v1/keywords/{pk}/", target="keyword")],
    ),
    (
        "keywords",
        "create",
        ADMIN,
        [
            api("post", "/api/v1/keywords/", {"keyword": "PIZZA", "number": "{number}"}),
            page("get", "keyword-create"),
            page("post", "keyword-create", {"keyword": "PIZZA", "number": "{number}", "is_active": "on"}),
        ],
    ),
    (
        "keywords",
        "change",
        ADMIN,
        [
            api("patch", "/api/v1/keywords/{pk}/", {"is_active": False}, target="keyword"),
            api("put", "/api/v1/keywords/{pk}/", {"keyword": "JOIN", "number": "{number}"}, target="keyword"),
            page("get", "keyword-edit", target="keyword"),
            page("post", "keyword-edit", {"keyword": "JOIN", "number": "{number}"}, target="keyword"),
        ],
    ),
    (
        "keywords",
        "delete",
        ADMIN,
        [
            api("delete", "/api/v1/keywords/{pk}/", target="keyword"),
            page("get", "keyword-delete", target="keyword"),
            page("post", "keyword-delete", target="keyword"),
        ],
    ),
    (
        "help_reply",
        "change",
        ADMIN,
        [page("get", "help-reply"), page("post", "help-reply", {"use_standard": "on"})],
    ),
    (
        "consent_events",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/consent-events/"),
            api("get", "/api/v1/consent-events/{pk}/", target="consent_event"),
            page("get", "compliance"),
        ],
    ),
    ("consent_events", "verify", MEMBER, [page("post", "compliance-verify")]),
    ("consent_events", "evidence", MEMBER, [page("get", "evidence-export")]),
    (
        "suppressions",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/suppressions/"),
            api("get", "/api/v1/suppressions/{pk}/", target="suppression"),
            page("get", "suppressions"),
        ],
    ),
    (
        "suppressions",
        "create",
        MEMBER,
        [
            api("post", "/api/v1/suppressions/", {"phone_number": "+12025550177"}),
            page("post", "suppressions", {"add-phone": "+12025550177"}),
        ],
    ),
    (
        "suppressions",
        "delete",
        ADMIN,
        [
            api("delete", "/api/v1/suppressions/{pk}/", target="suppression"),
            page("post", "suppression-remove", target="suppression"),
        ],
    ),
    (
        "campaigns",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/campaigns/"),
            api("get", "/api/v1/campaigns/{pk}/", target="campaign"),
            page("get", "campaigns"),
            page("get", "campaign", target="campaign"),
            page("get", "campaign-stats", target="campaign"),
        ],
    ),
    (
        "campaigns",
        "create",
        ADMIN,
        [api("post", "/api/v1/campaigns/", CAMPAIGN), page("get", "campaign-create"), page("post", "campaign-create")],
    ),
    (
        "campaigns",
        "change",
        ADMIN,
        [
            api("patch", "/api/v1/campaigns/{pk}/", {"name": "Saturday"}, target="campaign"),
            api("put", "/api/v1/campaigns/{pk}/", {**CAMPAIGN, "name": "Saturday"}, target="campaign"),
            page("get", "campaign-edit", target="campaign"),
            page("post", "campaign-edit", target="campaign"),
        ],
    ),
    (
        "campaigns",
        "delete",
        ADMIN,
        [
            api("delete", "/api/v1/campaigns/{pk}/", target="campaign"),
            page("get", "campaign-delete", target="campaign"),
            page("post", "campaign-delete", target="campaign"),
        ],
    ),
    ("campaigns", "measure", ADMIN, [page("post", "campaign-measure", {"body": "Hello"})]),
    (
        "campaigns",
        "draft",
        ADMIN,
        [
            api("post", "/api/v1/campaigns/draft/", {"brief": "2 for 1 tonight"}, openai=True),
            page("post", "campaign-draft", {"brief": "2 for 1 tonight"}, openai=True),
        ],
    ),
    (
        "campaigns",
        "launch",
        ADMIN,
        [
            api("post", "/api/v1/campaigns/{pk}/launch/", target="campaign"),
            page("get", "campaign-launch", target="campaign"),
            page("post", "campaign-launch", target="campaign"),
        ],
    ),
    (
        "campaigns",
        "cancel",
        ADMIN,
        [
            api("post", "/api/v1/campaigns/{pk}/cancel/", target="campaign"),
            page("get", "campaign-cancel", target="campaign"),
            page("post", "campaign-cancel", target="campaign"),
        ],
    ),
    (
        "qr_codes",
        "view",
        MEMBER,
        [
            api("get", "/api/v1/qr-codes/"),
            api("get", "/api/v1/qr-codes/{pk}/", target="qr_code"),
            api("get", "/api/v1/qr-codes/{pk}/image.svg", target="qr_code"),
            api("get", "/api/v1/qr-codes/{pk}/image.png", target="qr_code"),
            page("get", "qr-codes"),
            page("get", "qr-code", target="qr_code"),
            page("get", "qr-code-svg", target="qr_code"),
            page("get", "qr-code-png", target="qr_code"),
        ],
    ),
    (
        "qr_codes",
        "create",
        ADMIN,
        [
            api("post", "/api/v1/qr-codes/", {"number": "{number}", "keyword": "{keyword}", "label": "Till"}),
            page("get", "qr-code-create"),
            page("post", "qr-code-create", {"number": "{number}", "keyword": "{keyword}", "label": "Till"}),
        ],
    ),
    (
        "qr_codes",
        "change",
        ADMIN,
        [
            api("patch", "/api/v1/qr-codes/{pk}/", {"label": "Back door"}, target="qr_code"),
            api(
                "put",
                "/api/v1/qr-codes/{pk}/",
                {"number": "{number}", "keyword": "{keyword}", "label": "Back door"},
                target="qr_code",
            ),
            page("get", "qr-code-edit", target="qr_code"),
            page("post", "qr-code-edit", {"label": "Back door", "is_active": "on"}, target="qr_code"),
        ],
    ),
    (
        "qr_codes",
        "delete",
        ADMIN,
        [
            api("delete", "/api/v1/qr-codes/{pk}/", target="qr_code"),
            page("get", "qr-code-delete", target="qr_code"),
            page("post", "qr-code-delete", target="qr_code"),
        ],
    ),
    (
        "simulator",
        "view",
        MEMBER,
        [page("get", "simulator", debug=True), page("get", "simulator-conversation", debug=True)],
    ),
    ("simulator", "send", ADMIN, [page("post", "simulator", {"phone": "+12025550166", "text": "HELP"}, debug=True)]),
    ("business", "view", MEMBER, [page("get", "settings")]),
    ("business", "change", OWNER, [page("post", "settings", {"name": "Tony's Pizzeria"})]),
    ("team", "view", MEMBER, [page("get", "team")]),
    ("team", "invite", OWNER, [page("post", "team", {"email": "new@example.com", "role": "member"})]),
    ("team", "change_role", OWNER, [page("post", "team-role", {"role": "admin"}, target="colleague")]),
    ("team", "remove", OWNER, [page("post", "team-remove", target="colleague")]),
    ("team", "leave", MEMBER, [page("post", "team-remove", target="me")]),
    ("invitations", "cancel", OWNER, [page("post", "invitation-cancel", target="invitation")]),
    ("api_tokens", "view", OWNER, [page("get", "tokens")]),
    ("api_tokens", "create", OWNER, [page("post", "tokens", {"name": "Zapier", "lifetime": "30"})]),
    ("api_tokens", "revoke", OWNER, [page("post", "token-revoke", target="api_token", id_kwarg="key")]),
    ("billing", "view", MEMBER, [page("get", "billing")]),
    (
        "billing",
        "change",
        OWNER,
        [page("post", "billing-checkout", {"plan": "starter"}), page("post", "billing-portal")],
    ),
    ("data", "view", OWNER, [page("get", "data")]),
    ("data", "export", OWNER, [page("post", "data-export")]),
    ("data", "delete", OWNER, [page("post", "data-delete", {"confirm": "wrong name"})]),
    ("account", "view", MEMBER, [page("get", "account")]),
    ("account", "change", MEMBER, [page("post", "account", {"form": "name", "full_name": "Tony"})]),
]

# Dashboard pages that act for the logged-in person, not through a role in the business: every user may, for
# themselves only (the services look the row up by the user).
PERSONAL_PAGES = {
    "switch-business",  # to a business the user belongs to
    "data-deletion-pending",  # the deletions of businesses the user owns
    "data-deletion-cancel",
    "account-email-confirm",  # a link that works only for the account it was sent to (tests/dashboard)
}

CASES = [
    pytest.param(resource, action, least, door, id=f"{resource}.{action}-{door}")
    for resource, action, least, doors in TABLE
    for door in doors
]
OBJECT_CASES = [case for case in CASES if case.values[3].target not in (None, "me")]

MODELS = {
    "subscriber": Subscriber,
    "message": Message,
    "number": SenderNumber,
    "keyword": Keyword,
    "consent_event": ConsentEvent,
    "suppression": Suppression,
    "campaign": Campaign,
    "qr_code": QRCode,
    "colleague": Membership,
    "invitation": Invitation,
    "api_token": ApiToken,
}


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _objects(tenant) -> dict:
    """One object of every kind the doors act on, in `tenant`'s business."""
    business, owner = tenant.business, tenant.owner
    text_in(from_number=SUBSCRIBER, to_number=tenant.number.phone_number, text="JOIN")
    subscriber = Subscriber.objects.get(business=business, phone_number=SUBSCRIBER)
    campaign = campaign_services.campaign_create(
        business=business, created_by=owner.user, name="Friday", body=CAMPAIGN["body"], sender_number=tenant.number
    )
    token, _secret = account_services.api_token_create(user=owner.user, business=business, name="CI")
    invitation, _link = account_services.invitation_create(
        business=business, email="invitee@example.com", role=Role.MEMBER, invited_by=owner.user
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        suppression = consent_services.suppression_add_manual(business=business, phone="+12025550188", user=owner.user)
    qr_code = tracking_services.qr_code_create(
        business=business, number=tenant.number, keyword=tenant.keyword, label="Front door"
    )
    return {
        "subscriber": subscriber,
        "message": Message.objects.filter(business=business).first(),
        "number": tenant.number,
        "keyword": tenant.keyword,
        "consent_event": ConsentEvent.objects.filter(business=business).first(),
        "suppression": suppression,
        "campaign": campaign,
        "qr_code": qr_code,
        "colleague": MembershipFactory(business=business, role=Role.MEMBER),
        "invitation": invitation,
        "api_token": token,
    }


def _fill(value, objects):
    """`{number}` and `{keyword}` in a request body become those objects' ids."""
    if isinstance(value, dict):
        return {key: _fill(item, objects) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return objects[value[1:-1]].pk
    return value


def _target_id(door, objects, membership):
    if door.target == "me":
        return membership.pk
    obj = objects[door.target]
    return obj.token_key if door.id_kwarg == "key" else obj.pk


def _request(door, membership, objects, target_id=None):
    """Send `door`'s request as `membership`, against the object `target_id` (by default the door's own)."""
    if target_id is None and door.target is not None:
        target_id = _target_id(door, objects, membership)
    data = _fill(door.data, objects)
    if door.kind == "api":
        client = api_client(membership)
        path = door.where.format(pk=target_id)
        return getattr(client, door.method)(path, data, format="json")
    client = Client()
    client.force_login(membership.user)
    kwargs = {door.id_kwarg: target_id} if door.target is not None else {}
    url = reverse(f"dashboard:{door.where}", kwargs=kwargs)
    return getattr(client, door.method)(url, data or {})


def _snapshot(door, objects):
    if door.target in (None, "me"):
        return None
    obj = objects[door.target]
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


def _message(response) -> str:
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return response.json()["error"]
    return response.content.decode()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("resource", "action", "least", "door"), CASES)
def test_each_role_is_allowed_or_refused_alike_through_every_door(
    request, tenant_a, settings, role, resource, action, least, door
):
    settings.DEBUG = door.debug
    if door.openai:
        request.getfixturevalue("fake_openai")
    objects = _objects(tenant_a)
    membership = getattr(tenant_a, role)
    before = _snapshot(door, objects)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _request(door, membership, objects)

    assert response.status_code < 500, response.content[:2000]
    if Role.rank(role) >= Role.rank(least):
        assert response.status_code != 403, _message(response)[:2000]
    else:
        assert response.status_code == 403, (response.status_code, response.content[:2000])
        message = _message(response)
        assert "needs the" in message and (least in message or Role(least).label in message), message[:2000]
        assert _snapshot(door, objects) == before, "a refused request changed the row"


@pytest.mark.parametrize(("resource", "action", "least", "door"), OBJECT_CASES)
def test_another_business_object_is_not_found_through_every_door(
    tenant_a, tenant_b, settings, resource, action, least, door
):
    settings.DEBUG = door.debug
    objects_a = _objects(tenant_a)
    objects_b = _objects(tenant_b)
    before = _snapshot(door, objects_a)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _request(door, tenant_b.owner, objects_b, target_id=_target_id(door, objects_a, tenant_a.owner))

    assert response.status_code == 404, response.content[:2000]
    assert _snapshot(door, objects_a) == before


def test_a_member_cannot_change_a_subscribers_notes_or_tags_through_either_door(tenant_a):
    """The finding: a member's PATCH of notes and tags answered 200 through the API while the dashboard said 403."""
    objects = _objects(tenant_a)
    subscriber = objects["subscriber"]

    through_api = api_client(tenant_a.member).patch(
        f"/api/v1/subscribers/{subscriber.pk}/", {"notes": "VIP", "tags": ["vip"]}, format="json"
    )
    client = Client()
    client.force_login(tenant_a.member.user)
    through_page = client.post(reverse("dashboard:subscriber", args=[subscriber.pk]), {"notes": "VIP", "tags": "vip"})

    assert (through_api.status_code, through_page.status_code) == (403, 403)
    assert through_api.json() == {"error": "This action needs the admin role in Tony's Pizza."}
    subscriber.refresh_from_db()
    assert subscriber.notes == "" and not subscriber.tags.exists()


def test_an_admin_changes_a_subscribers_notes_and_tags_through_either_door(tenant_a):
    objects = _objects(tenant_a)
    subscriber = objects["subscriber"]

    through_api = api_client(tenant_a.admin).patch(
        f"/api/v1/subscribers/{subscriber.pk}/", {"notes": "VIP", "tags": ["vip"]}, format="json"
    )
    assert through_api.status_code == 200, through_api.content
    client = Client()
    client.force_login(tenant_a.admin.user)
    through_page = client.post(
        reverse("dashboard:subscriber", args=[subscriber.pk]), {"notes": "Regular", "tags": "vip, friday"}
    )

    assert through_page.status_code == 302, through_page.content[:2000]
    subscriber.refresh_from_db()
    assert subscriber.notes == "Regular"
    assert sorted(subscriber.tags.values_list("name", flat=True)) == ["friday", "vip"]


# --- the table covers every door --------------------------------------------------------------------------------------


def _router_actions() -> set[tuple[type, str, str]]:
    """(viewset, HTTP method, viewset action) for every method the API's router serves."""
    return {
        (viewset, method, handler)
        for _prefix, viewset, _basename in router.registry
        for route in router.get_routes(viewset)
        for method, handler in route.mapping.items()
        if hasattr(viewset, handler)
    }


def _table_api_actions() -> set[tuple[type, str, str]]:
    found = set()
    for _resource, _action, _least, doors in TABLE:
        for door in doors:
            if door.kind == "api":
                view = resolve(door.where.format(pk=1)).func
                found.add((view.cls, door.method, view.actions[door.method]))
    return found


def _dashboard_names(patterns=None) -> set[str]:
    names = set()
    for pattern in patterns if patterns is not None else dashboard_urls.urlpatterns:
        if isinstance(pattern, URLResolver):
            names |= _dashboard_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_every_dashboard_page_is_in_the_table():
    in_table = {door.where for _resource, _action, _least, doors in TABLE for door in doors if door.kind == "dashboard"}

    assert _dashboard_names() - PERSONAL_PAGES - in_table == set()
    assert in_table - _dashboard_names() == set()


def test_every_api_endpoint_and_method_is_in_the_table():
    assert _router_actions() - _table_api_actions() == set()


def test_the_role_map_says_what_the_table_says():
    """accounts/roles.py is what both doors consult; the table is the spec it must match, entry for entry."""
    in_table = {(resource, action): least for resource, action, least, _doors in TABLE}
    in_map = {(resource, action): least for resource, actions in ROLE_MAP.items() for action, least in actions.items()}

    assert in_map == in_table


def test_every_door_names_the_action_of_its_row_in_the_role_map():
    """Each API viewset and dashboard page declares its (resource, action): the one its row in the table is for."""
    for resource, action, _least, doors in TABLE:
        for door in doors:
            if door.kind == "api":
                view = resolve(door.where.format(pk=1)).func
                handler = view.actions[door.method]
                own = getattr(view.cls, "resource_actions", {})
                declared = (view.cls.resource, own.get(handler) or API_ACTIONS.get(handler, handler))
            else:
                kwargs = {door.id_kwarg: "1"} if door.target else {}
                entry_resource, get_action, post_action = resolve(
                    reverse(f"dashboard:{door.where}", kwargs=kwargs)
                ).func.role_map_entry
                wanted = post_action if (post_action and door.method == "post") else get_action
                declared = (entry_resource, wanted)
            if (resource, action) == ("team", "remove"):
                assert declared == ("team", "leave"), door  # the page itself checks "remove" for someone else
                continue
            assert declared == (resource, action), door


class _NotesView(APIView):
    """A plain API view (not a viewset) on the default permission class: it is read by its method."""

    resource = "subscribers"

    def get(self, request):
        return Response({"ok": True})

    def patch(self, request):
        return Response({"ok": True})


class _NamelessView(APIView):
    def get(self, request):
        return Response({"ok": True})


def _plain(view, method, membership):
    _token, secret = account_services.api_token_create(user=membership.user, business=membership.business)
    request = getattr(APIRequestFactory(), method)("/plain/", {}, format="json", HTTP_AUTHORIZATION=f"Token {secret}")
    return view.as_view()(request)


@pytest.mark.parametrize(
    ("role", "method", "status"), [("member", "get", 200), ("member", "patch", 403), ("admin", "patch", 200)]
)
def test_a_plain_api_view_is_held_to_the_map_by_its_method(tenant_a, role, method, status):
    response = _plain(_NotesView, method, getattr(tenant_a, role))

    assert response.status_code == status


def test_an_api_view_without_a_resource_is_a_configuration_error_not_an_open_door(tenant_a):
    with pytest.raises(ImproperlyConfigured, match="names no `resource`"):
        _plain(_NamelessView, "get", tenant_a.owner)
