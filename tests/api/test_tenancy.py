"""Tenancy of the REST API: one business never sees, changes or learns of another business's objects.

Every endpoint is driven from business B against business A's objects: B gets 404 exactly as for an id that does not
exist, A's rows never show up in B's lists or filters, and requests without a valid token are turned away with 401.
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from consent.models import ConsentEvent, Suppression
from subscribers.models import Keyword, SenderNumber, Subscriber
from tests.helpers import api_client, text_in

A_SUBSCRIBER = "+12025550143"
A_STOPPED = "+12025550144"  # texted JOIN then STOP to A
B_SUBSCRIBER = "+12025550145"
B_STOPPED = "+12025550146"
MISSING_ID = 987_654_321

ENDPOINTS = ["numbers", "keywords", "subscribers", "consent-events", "suppressions"]
# Endpoints whose lists take ?phone_number=.
PHONE_FILTERED = ["subscribers", "consent-events", "suppressions"]


def _objects(tenant, *, subscribed, stopped):
    text_in(from_number=subscribed, to_number=tenant.number.phone_number, text="JOIN")
    text_in(from_number=stopped, to_number=tenant.number.phone_number, text="JOIN")
    text_in(from_number=stopped, to_number=tenant.number.phone_number, text="STOP")
    business = tenant.business
    return {
        "numbers": tenant.number,
        "keywords": tenant.keyword,
        "subscribers": Subscriber.objects.get(business=business, phone_number=subscribed),
        "consent-events": ConsentEvent.objects.filter(business=business, phone_number=subscribed).first(),
        "suppressions": Suppression.objects.get(business=business, phone_number=stopped),
    }


@pytest.fixture
def world(tenant_a, tenant_b):
    """Both businesses with one object of every kind: A's are the targets, B's prove B's lists are not empty."""
    return {
        "a": _objects(tenant_a, subscribed=A_SUBSCRIBER, stopped=A_STOPPED),
        "b": _objects(tenant_b, subscribed=B_SUBSCRIBER, stopped=B_STOPPED),
    }


def _snapshot(obj):
    """The row as stored now, to compare before and after a refused request."""
    model = type(obj)
    return model._default_manager.filter(pk=obj.pk).values().first()


def _ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


# (endpoint, method, body): every object-level action each endpoint offers.
OBJECT_ACTIONS = [
    ("numbers", "get", None),
    ("numbers", "delete", None),
    ("keywords", "get", None),
    ("keywords", "patch", {"keyword": "TAKEN"}),
    ("keywords", "put", {"keyword": "TAKEN", "number": None, "confirmation_text": "", "is_active": False}),
    ("keywords", "delete", None),
    ("subscribers", "get", None),
    ("subscribers", "patch", {"name": "Mallory", "notes": "seen by B"}),
    ("subscribers", "put", {"name": "Mallory", "email": "m@example.com", "notes": "", "tags": ["b"]}),
    ("consent-events", "get", None),
    ("suppressions", "get", None),
    ("suppressions", "delete", None),
]


@pytest.mark.parametrize(("endpoint", "method", "body"), OBJECT_ACTIONS)
def test_another_business_object_is_not_found_and_left_untouched(world, tenant_b, endpoint, method, body):
    target = world["a"][endpoint]
    if body is not None and "number" in body:
        body = {**body, "number": tenant_b.number.pk}
    before = _snapshot(target)
    client = api_client(tenant_b.owner)

    response = getattr(client, method)(f"/api/v1/{endpoint}/{target.pk}/", body, format="json")

    assert response.status_code == 404, response.content
    assert "error" in response.json()
    assert _snapshot(target) == before


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize(("endpoint", "method", "body"), OBJECT_ACTIONS)
def test_another_business_object_answers_exactly_like_a_missing_one(world, tenant_b, role, endpoint, method, body):
    """No role in B can tell from the answer whether A's id exists: same status, same body."""
    if body is not None and "number" in body:
        body = {**body, "number": tenant_b.number.pk}
    client = api_client(getattr(tenant_b, role))
    target = world["a"][endpoint]

    for_a = getattr(client, method)(f"/api/v1/{endpoint}/{target.pk}/", body, format="json")
    for_missing = getattr(client, method)(f"/api/v1/{endpoint}/{MISSING_ID}/", body, format="json")

    assert for_a.status_code in (403, 404)
    assert (for_a.status_code, for_a.json()) == (for_missing.status_code, for_missing.json())


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_business_objects_never_appear_in_a_list(world, tenant_b, endpoint):
    listed = _ids(api_client(tenant_b.owner).get(f"/api/v1/{endpoint}/", {"page_size": 500}))

    model = type(world["a"][endpoint])
    a_ids = set(model._default_manager.filter(business=world["a"]["numbers"].business).values_list("pk", flat=True))
    assert world["b"][endpoint].pk in listed
    assert a_ids and not (listed & a_ids)


@pytest.mark.parametrize(
    ("endpoint", "phone"),
    [
        ("subscribers", A_SUBSCRIBER),
        ("subscribers", A_STOPPED),
        ("subscribers", "(202) 555-0143"),
        ("consent-events", A_SUBSCRIBER),
        ("consent-events", "202.555.0144"),
        ("suppressions", A_STOPPED),
        ("suppressions", "1 202 555 0144"),
    ],
)
def test_filtering_by_another_business_phone_finds_nothing(world, tenant_a, tenant_b, endpoint, phone):
    # The filter does find the rows for their own business, so an empty answer for B means something.
    assert _ids(api_client(tenant_a.owner).get(f"/api/v1/{endpoint}/", {"phone_number": phone}))

    assert _ids(api_client(tenant_b.owner).get(f"/api/v1/{endpoint}/", {"phone_number": phone})) == set()


@pytest.mark.parametrize("endpoint", PHONE_FILTERED)
def test_the_same_phone_in_two_businesses_is_listed_to_each_as_its_own_record(tenant_a, tenant_b, endpoint):
    for tenant in (tenant_a, tenant_b):
        text_in(from_number=A_SUBSCRIBER, to_number=tenant.number.phone_number, text="JOIN")
        text_in(from_number=A_SUBSCRIBER, to_number=tenant.number.phone_number, text="STOP")
    model = {"subscribers": Subscriber, "consent-events": ConsentEvent, "suppressions": Suppression}[endpoint]

    for tenant in (tenant_a, tenant_b):
        listed = _ids(api_client(tenant.owner).get(f"/api/v1/{endpoint}/", {"phone_number": A_SUBSCRIBER}))
        own = set(model.objects.filter(business=tenant.business).values_list("pk", flat=True))
        assert listed and listed == own


def test_a_token_acts_for_its_own_business_even_when_the_user_belongs_to_both(world, tenant_a, tenant_b):
    Membership.objects.create(user=tenant_b.owner.user, business=tenant_a.business, role=Role.OWNER)
    client = api_client(tenant_b.owner)  # a token issued for B

    assert client.get(f"/api/v1/subscribers/{world['a']['subscribers'].pk}/").status_code == 404
    assert world["a"]["subscribers"].pk not in _ids(client.get("/api/v1/subscribers/"))


def test_a_dashboard_session_sees_only_its_own_business(world, tenant_b):
    client = APIClient()
    client.force_login(tenant_b.owner.user)

    assert client.get(f"/api/v1/subscribers/{world['a']['subscribers'].pk}/").status_code == 404
    own = set(Subscriber.objects.filter(business=tenant_b.business).values_list("pk", flat=True))
    assert _ids(client.get("/api/v1/subscribers/")) == own


def test_a_keyword_cannot_point_at_another_business_number_and_the_error_does_not_reveal_it(tenant_a, tenant_b):
    client = api_client(tenant_b.admin)
    foreign = tenant_a.number.pk

    on_foreign = client.post("/api/v1/keywords/", {"keyword": "PIZZA", "number": foreign}, format="json")
    on_missing = client.post("/api/v1/keywords/", {"keyword": "PIZZA", "number": MISSING_ID}, format="json")

    assert on_foreign.status_code == 400
    assert "number" in on_foreign.json()["details"]
    # Same words either way, once the id the caller sent is taken out.
    assert on_foreign.json()["error"].replace(f"id {foreign} ", "id <id> ") == on_missing.json()["error"].replace(
        f"id {MISSING_ID} ", "id <id> "
    )
    assert "<id>" in on_foreign.json()["error"].replace(f"id {foreign} ", "id <id> ")
    assert tenant_a.number.phone_number not in on_foreign.content.decode()
    assert not Keyword.objects.filter(keyword="PIZZA").exists()


def test_a_keyword_cannot_be_moved_onto_another_business_number(tenant_a, tenant_b):
    response = api_client(tenant_b.admin).patch(
        f"/api/v1/keywords/{tenant_b.keyword.pk}/", {"number": tenant_a.number.pk}, format="json"
    )

    assert response.status_code == 400
    assert "number" in response.json()["details"]
    tenant_b.keyword.refresh_from_db()
    assert tenant_b.keyword.number_id == tenant_b.number.pk


def test_a_number_registered_by_another_business_cannot_be_claimed(tenant_a, tenant_b):
    response = api_client(tenant_b.admin).post(
        "/api/v1/numbers/", {"phone_number": tenant_a.number.phone_number}, format="json"
    )

    assert response.status_code == 400
    assert SenderNumber.objects.get(phone_number=tenant_a.number.phone_number).business == tenant_a.business


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Token not-a-real-token", "Token ", "Token a b", "Bearer whatever", "Basic dXNlcjpwYXNz"],
    ids=["no-header", "unknown-token", "empty-token", "token-with-space", "other-scheme", "basic"],
)
def test_requests_without_a_valid_token_get_401(world, endpoint, authorization):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    listing = client.get(f"/api/v1/{endpoint}/")
    detail = client.get(f"/api/v1/{endpoint}/{world['a'][endpoint].pk}/")

    for response in (listing, detail):
        assert response.status_code == 401, response.content
        assert response.json()["error"]
        assert response["WWW-Authenticate"] == "Token"


def test_a_token_for_a_business_the_user_has_left_is_refused(world, tenant_a):
    client = api_client(tenant_a.member)
    assert client.get("/api/v1/subscribers/").status_code == 200

    tenant_a.member.delete()

    response = client.get("/api/v1/subscribers/")
    assert response.status_code == 403
    assert response.json()["error"]
