"""/api/v1/subscribers/: read and annotated by the business, never created, deleted or (re)subscribed through it."""

import pytest

from consent.models import ConsentEvent
from subscribers.models import Subscriber
from tests.helpers import api_client, text_in

SUBSCRIBERS = "/api/v1/subscribers/"
PHONE = "+12025550143"


def _join(tenant, phone=PHONE):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text="JOIN")
    return Subscriber.objects.get(business=tenant.business, phone_number=phone)


def _stop(tenant, phone=PHONE):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text="STOP")
    return Subscriber.objects.get(business=tenant.business, phone_number=phone)


@pytest.fixture
def owner(tenant_a):
    return api_client(tenant_a.owner)


# --- no way in, no way out ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"phone_number": "+12025550199"},
        {"phone_number": "+12025550199", "status": "subscribed", "opt_in_method": "keyword"},
    ],
)
def test_a_subscriber_cannot_be_created_through_the_api(tenant_a, owner, body):
    response = owner.post(SUBSCRIBERS, body, format="json")

    assert response.status_code == 405
    assert response.json()["error"]
    assert not Subscriber.objects.exists()


def test_a_subscriber_cannot_be_deleted_through_the_api(tenant_a, owner):
    subscriber = _join(tenant_a)

    response = owner.delete(f"{SUBSCRIBERS}{subscriber.pk}/")

    assert response.status_code == 405
    assert Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.Status.SUBSCRIBED).exists()


# --- reading --------------------------------------------------------------------------------------------------------


def test_a_listed_subscriber_shows_how_and_when_it_opted_in_and_out(tenant_a, owner):
    _join(tenant_a)
    stopped = _stop(tenant_a)

    (item,) = owner.get(SUBSCRIBERS).json()["results"]

    assert {"id", "phone_number", "status", "opt_in_method", "opted_in_at", "opted_out_at"} <= set(item)
    assert item["id"] == stopped.pk
    assert item["phone_number"] == PHONE
    assert item["status"] == "unsubscribed"
    assert item["opt_in_method"] == "keyword"
    assert item["opted_in_at"] is not None and item["opted_out_at"] is not None
    assert item["opted_in_at"] <= item["opted_out_at"]


def test_a_subscriber_is_retrieved_by_id(tenant_a, owner):
    subscriber = _join(tenant_a)

    response = owner.get(f"{SUBSCRIBERS}{subscriber.pk}/")

    assert response.status_code == 200
    assert (response.json()["phone_number"], response.json()["status"]) == (PHONE, "subscribed")


@pytest.mark.parametrize("query", [PHONE, "(202) 555-0143", "202.555.0143", "2025550143", "1 202 555 0143"])
def test_the_phone_filter_accepts_any_us_format(tenant_a, owner, query):
    wanted = _join(tenant_a)
    _join(tenant_a, "+12025550144")

    results = owner.get(SUBSCRIBERS, {"phone_number": query}).json()["results"]

    assert [s["id"] for s in results] == [wanted.pk]


@pytest.mark.parametrize("query", ["12345", "call me", "+1 555 555 5555", ""])
def test_an_invalid_phone_filter_is_a_400_saying_what_to_fix(tenant_a, owner, query):
    _join(tenant_a)

    response = owner.get(SUBSCRIBERS, {"phone_number": query})

    assert response.status_code == 400
    assert response.json()["error"].startswith("phone_number:")
    assert "E.164" in response.json()["error"]


@pytest.mark.parametrize("status", ["subscribed", "unsubscribed"])
def test_the_status_filter_returns_only_that_status(tenant_a, owner, status):
    subscribed = _join(tenant_a)
    _join(tenant_a, "+12025550144")
    unsubscribed = _stop(tenant_a, "+12025550144")
    expected = {"subscribed": subscribed, "unsubscribed": unsubscribed}[status]

    results = owner.get(SUBSCRIBERS, {"status": status}).json()["results"]

    assert [s["id"] for s in results] == [expected.pk]
    assert owner.get(SUBSCRIBERS, {"status": "pending"}).json()["results"] == []


@pytest.mark.parametrize("status", ["active", "SUBSCRIBED", "deleted", ""])
def test_an_unknown_status_filter_is_a_400_listing_the_choices(tenant_a, owner, status):
    response = owner.get(SUBSCRIBERS, {"status": status})

    assert response.status_code == 400
    assert response.json()["error"].startswith("status:")
    assert "subscribed, unsubscribed, pending" in response.json()["error"]


def test_the_list_is_paginated_with_next_and_previous_links(tenant_a, owner):
    phones = [f"+1202555014{n}" for n in range(3)]
    for phone in phones:
        _join(tenant_a, phone)

    first = owner.get(SUBSCRIBERS, {"page_size": 2}).json()
    assert set(first) == {"results", "next", "previous"}
    assert len(first["results"]) == 2
    assert first["previous"] is None and first["next"]

    second = owner.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None and second["previous"]

    seen = [s["phone_number"] for s in first["results"] + second["results"]]
    assert sorted(seen) == sorted(phones)


def test_an_empty_list_still_has_the_pagination_shape(tenant_a, owner):
    assert owner.get(SUBSCRIBERS).json() == {"results": [], "next": None, "previous": None}


def test_a_page_size_above_the_cap_is_refused_not_cut(tenant_a, owner):
    _join(tenant_a)

    response = owner.get(SUBSCRIBERS, {"page_size": 100_000})

    assert response.status_code == 400
    assert response.json()["error"] == "page_size: Give a whole number from 1 to 500."


# --- the business's own notes ---------------------------------------------------------------------------------------


def test_name_email_notes_and_tags_can_be_changed(tenant_a, owner):
    subscriber = _join(tenant_a)

    response = owner.patch(
        f"{SUBSCRIBERS}{subscriber.pk}/",
        {"name": "Ana", "email": "ana@example.com", "notes": "Likes pepperoni", "tags": ["VIP", " vip ", "Lunch"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["email"], body["notes"]) == ("Ana", "ana@example.com", "Likes pepperoni")
    assert body["tags"] == ["lunch", "vip"]
    subscriber.refresh_from_db()
    assert (subscriber.name, subscriber.email, subscriber.notes) == ("Ana", "ana@example.com", "Likes pepperoni")
    assert sorted(subscriber.tags.values_list("name", flat=True)) == ["lunch", "vip"]
    assert owner.get(f"{SUBSCRIBERS}{subscriber.pk}/").json()["tags"] == ["lunch", "vip"]


def test_tags_are_replaced_as_a_whole(tenant_a, owner):
    subscriber = _join(tenant_a)
    url = f"{SUBSCRIBERS}{subscriber.pk}/"
    owner.patch(url, {"tags": ["vip", "lunch"]}, format="json")

    response = owner.patch(url, {"tags": ["dinner"]}, format="json")

    assert response.json()["tags"] == ["dinner"]
    assert owner.patch(url, {"tags": []}, format="json").json()["tags"] == []


def test_an_invalid_email_is_refused(tenant_a, owner):
    subscriber = _join(tenant_a)

    response = owner.patch(f"{SUBSCRIBERS}{subscriber.pk}/", {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert "email" in response.json()["details"]


def _state(subscriber):
    subscriber.refresh_from_db()
    return (
        subscriber.status,
        subscriber.phone_number,
        subscriber.opt_in_method,
        subscriber.opted_in_at,
        subscriber.opted_out_at,
    )


CONSENT_FIELD_CHANGES = [
    {"status": "subscribed"},
    {"status": "pending"},
    {"phone_number": "+12025550199"},
    {"opt_in_method": "web_form"},
    {"opted_in_at": "2020-01-01T00:00:00Z", "opted_out_at": None},
    {"status": "subscribed", "opted_out_at": None, "name": "Resubscribed by the business"},
]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("changes", CONSENT_FIELD_CHANGES)
def test_consent_fields_cannot_be_changed_by_the_business(tenant_a, owner, method, changes):
    _join(tenant_a)
    subscriber = _stop(tenant_a)
    before = _state(subscriber)
    events = ConsentEvent.objects.filter(business=tenant_a.business).count()

    response = getattr(owner, method)(f"{SUBSCRIBERS}{subscriber.pk}/", changes, format="json")

    assert response.status_code in (200, 400)
    assert _state(subscriber) == before
    assert before[0] == Subscriber.Status.UNSUBSCRIBED
    assert response.status_code == 400 or response.json()["status"] == "unsubscribed"
    assert ConsentEvent.objects.filter(business=tenant_a.business).count() == events


def test_a_subscribed_number_cannot_be_unsubscribed_by_a_patch_either(tenant_a, owner):
    """Opting out on someone's behalf goes through /api/v1/suppressions/, which records it in the ledger."""
    subscriber = _join(tenant_a)

    owner.patch(f"{SUBSCRIBERS}{subscriber.pk}/", {"status": "unsubscribed"}, format="json")

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUBSCRIBED


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_and_owners_annotate_a_subscriber(tenant_a, role):
    subscriber = _join(tenant_a)

    response = api_client(getattr(tenant_a, role)).patch(
        f"{SUBSCRIBERS}{subscriber.pk}/", {"notes": f"by {role}"}, format="json"
    )

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.notes == f"by {role}"


def test_a_member_may_not_annotate_a_subscriber_as_in_the_dashboard(tenant_a):
    subscriber = _join(tenant_a)

    response = api_client(tenant_a.member).patch(
        f"{SUBSCRIBERS}{subscriber.pk}/", {"notes": "by member"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"error": "This action needs the admin role in Tony's Pizza."}
    subscriber.refresh_from_db()
    assert subscriber.notes == ""
