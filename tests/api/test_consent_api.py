"""/api/v1/consent-events/ (the ledger: read-only, with its evidence) and /api/v1/suppressions/ (the do-not-text list:
the business adds and lifts its own entries, never a consumer's STOP), the error shape, and the OpenAPI schema."""

import json

import pytest
from django.test import Client

from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind, can_send
from consent.selectors import ledger_verify
from subscribers.models import Subscriber
from tests.helpers import api_client, text_in

EVENTS = "/api/v1/consent-events/"
SUPPRESSIONS = "/api/v1/suppressions/"
PHONE = "+12025550143"
OTHER_PHONE = "+12025550144"


def _text(tenant, text, phone=PHONE):
    return text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


@pytest.fixture
def owner(tenant_a):
    return api_client(tenant_a.owner)


# --- consent events -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "detail"),
    [("post", False), ("put", True), ("patch", True), ("delete", True)],
)
def test_the_consent_ledger_is_read_only(tenant_a, owner, method, detail):
    _text(tenant_a, "JOIN")
    event = ConsentEvent.objects.get(business=tenant_a.business)
    before = ConsentEvent.objects.filter(pk=event.pk).values().get()
    url = f"{EVENTS}{event.pk}/" if detail else EVENTS
    body = {"phone_number": PHONE, "kind": "opt_in", "method": "admin", "evidence": {"forged": True}}

    response = getattr(owner, method)(url, body, format="json")

    assert response.status_code == 405
    assert response.json()["error"]
    assert list(ConsentEvent.objects.values()) == [before]


def test_events_carry_kind_method_time_and_the_inbound_text_as_evidence(tenant_a, owner):
    _text(tenant_a, "join")
    _text(tenant_a, "  Stop!  ")

    results = owner.get(EVENTS).json()["results"]

    by_kind = {event["kind"]: event for event in results}
    assert set(by_kind) == {"opt_in", "opt_out"}
    for kind, inbound in (("opt_in", "join"), ("opt_out", "  Stop!  ")):
        event = by_kind[kind]
        assert event["method"] == "keyword"
        assert event["occurred_at"]
        assert event["phone_number"] == PHONE
        assert event["evidence"]["inbound_text"] == inbound
        assert event["evidence"]["provider_message_id"]
        assert event["evidence"]["to_number"] == tenant_a.number.phone_number
    assert by_kind["opt_in"]["evidence"]["keyword"] == "JOIN"
    assert "Msg & data rates may apply" in by_kind["opt_in"]["evidence"]["reply_text"]


def test_a_help_request_is_in_the_ledger_with_the_reply_it_got(tenant_a, owner):
    _text(tenant_a, "HELP")

    (event,) = owner.get(EVENTS).json()["results"]

    assert (event["kind"], event["method"], event["evidence"]["inbound_text"]) == ("help", "keyword", "HELP")
    assert "Reply STOP to cancel" in event["evidence"]["reply_text"]


@pytest.mark.parametrize("query", [PHONE, "(202) 555-0143", "202-555-0143"])
def test_events_are_filtered_by_phone(tenant_a, owner, query):
    _text(tenant_a, "JOIN")
    _text(tenant_a, "JOIN", phone=OTHER_PHONE)
    _text(tenant_a, "STOP")

    results = owner.get(EVENTS, {"phone_number": query}).json()["results"]

    assert [(e["phone_number"], e["kind"]) for e in results] == [(PHONE, "opt_out"), (PHONE, "opt_in")]


def test_an_invalid_event_phone_filter_is_a_400(tenant_a, owner):
    response = owner.get(EVENTS, {"phone_number": "12345"})

    assert response.status_code == 400
    assert response.json()["error"].startswith("phone_number:")


def test_an_event_is_retrieved_by_id(tenant_a, owner):
    _text(tenant_a, "JOIN")
    event = ConsentEvent.objects.get(business=tenant_a.business)

    body = owner.get(f"{EVENTS}{event.pk}/").json()

    assert (body["id"], body["kind"], body["row_hash"]) == (event.pk, "opt_in", event.row_hash)


# --- suppressions ---------------------------------------------------------------------------------------------------


def test_suppressions_are_listed_and_filtered_by_phone(tenant_a, owner):
    _text(tenant_a, "STOP")
    _text(tenant_a, "STOP", phone=OTHER_PHONE)

    everything = owner.get(SUPPRESSIONS).json()["results"]
    one = owner.get(SUPPRESSIONS, {"phone_number": "(202) 555-0143"}).json()["results"]

    assert {s["phone_number"] for s in everything} == {PHONE, OTHER_PHONE}
    assert [(s["phone_number"], s["reason"]) for s in one] == [(PHONE, "stop")]
    assert {"id", "phone_number", "reason", "created_at"} <= set(one[0])


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_the_business_adds_a_number_to_its_do_not_text_list(tenant_a, role):
    client = api_client(getattr(tenant_a, role))

    response = client.post(SUPPRESSIONS, {"phone_number": "(202) 555-0143"}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["phone_number"], response.json()["reason"]) == (PHONE, "manual")
    suppression = Suppression.objects.get(pk=response.json()["id"])
    assert suppression.business == tenant_a.business
    event = suppression.event
    assert (event.kind, event.method, event.phone_number) == ("opt_out", "admin", PHONE)
    assert event.evidence["by_user"] == getattr(tenant_a, role).user.pk
    assert not can_send(tenant_a.business, PHONE, SendKind.MARKETING)
    assert ledger_verify(business_ids=[tenant_a.business.pk]) == []


def test_a_manual_suppression_unsubscribes_a_subscribed_number(tenant_a, owner):
    _text(tenant_a, "JOIN")

    owner.post(SUPPRESSIONS, {"phone_number": PHONE}, format="json")

    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE)
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    kinds = list(owner.get(EVENTS, {"phone_number": PHONE}).json()["results"])
    assert [(e["kind"], e["method"]) for e in kinds] == [("opt_out", "admin"), ("opt_in", "keyword")]


def test_adding_a_suppressed_number_again_keeps_one_entry_and_one_event(tenant_a, owner):
    first = owner.post(SUPPRESSIONS, {"phone_number": PHONE}, format="json").json()
    second = owner.post(SUPPRESSIONS, {"phone_number": "202 555 0143"}, format="json")

    assert second.json()["id"] == first["id"]
    assert Suppression.objects.filter(business=tenant_a.business).count() == 1
    assert ConsentEvent.objects.filter(business=tenant_a.business).count() == 1


@pytest.mark.parametrize("body", [{"phone_number": "12345"}, {"phone_number": ""}, {}])
def test_a_suppression_needs_a_valid_phone(tenant_a, owner, body):
    response = owner.post(SUPPRESSIONS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("phone_number:")
    assert not Suppression.objects.exists()


def test_the_business_can_lift_its_own_manual_suppression(tenant_a, owner):
    created = owner.post(SUPPRESSIONS, {"phone_number": PHONE}, format="json").json()

    response = owner.delete(f"{SUPPRESSIONS}{created['id']}/")

    assert response.status_code == 204
    assert not Suppression.objects.filter(pk=created["id"]).exists()
    assert owner.get(SUPPRESSIONS).json()["results"] == []


def test_lifting_a_manual_suppression_does_not_resubscribe_the_number(tenant_a, owner):
    _text(tenant_a, "JOIN")
    created = owner.post(SUPPRESSIONS, {"phone_number": PHONE}, format="json").json()

    owner.delete(f"{SUPPRESSIONS}{created['id']}/")

    assert Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE).status == "unsubscribed"
    assert not can_send(tenant_a.business, PHONE, SendKind.MARKETING)


def test_a_member_cannot_lift_a_suppression(tenant_a):
    created = api_client(tenant_a.member).post(SUPPRESSIONS, {"phone_number": PHONE}, format="json").json()

    response = api_client(tenant_a.member).delete(f"{SUPPRESSIONS}{created['id']}/")

    assert response.status_code == 403
    assert "admin role" in response.json()["error"]
    assert Suppression.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize("how", ["stop", "manual then stop"])
@pytest.mark.parametrize("role", ["admin", "owner"])
def test_the_business_cannot_lift_a_consumer_stop(tenant_a, how, role):
    client = api_client(getattr(tenant_a, role))
    _text(tenant_a, "JOIN")
    if how == "manual then stop":
        client.post(SUPPRESSIONS, {"phone_number": PHONE}, format="json")
    _text(tenant_a, "STOP")
    suppression = Suppression.objects.get(business=tenant_a.business, phone_number=PHONE)
    assert suppression.reason == Suppression.Reason.STOP

    response = client.delete(f"{SUPPRESSIONS}{suppression.pk}/")

    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"error"}
    assert "opted out" in response.json()["error"] and "START" in response.json()["error"]
    assert Suppression.objects.filter(pk=suppression.pk, reason=Suppression.Reason.STOP).exists()
    assert not can_send(tenant_a.business, PHONE, SendKind.MARKETING)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_suppression_cannot_be_edited(tenant_a, owner, method):
    _text(tenant_a, "STOP")
    suppression = Suppression.objects.get(business=tenant_a.business)

    response = getattr(owner, method)(
        f"{SUPPRESSIONS}{suppression.pk}/", {"phone_number": OTHER_PHONE, "reason": "manual"}, format="json"
    )

    assert 400 <= response.status_code < 500
    suppression.refresh_from_db()
    assert (suppression.phone_number, suppression.reason) == (PHONE, Suppression.Reason.STOP)


# --- error shape and schema -----------------------------------------------------------------------------------------


def test_errors_are_json_with_a_readable_error(tenant_a, owner):
    responses = {
        400: owner.get(SUPPRESSIONS, {"phone_number": "nope"}),
        404: owner.get(f"{SUPPRESSIONS}987654321/"),
        405: owner.post(EVENTS, {}, format="json"),
        401: Client().get(SUPPRESSIONS),
    }

    for status, response in responses.items():
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert isinstance(body["error"], str) and body["error"].strip()
        assert set(body) <= {"error", "details"}


def test_the_openapi_schema_describes_the_api(db):
    response = Client().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert "/api/v1/subscribers/" in paths
    assert "/api/v1/consent-events/" in paths and "/api/v1/suppressions/{id}/" in paths
    # What the API does not offer is not documented either.
    assert "post" not in paths["/api/v1/subscribers/"]
    assert "delete" not in paths["/api/v1/subscribers/{id}/"]
    assert set(paths["/api/v1/consent-events/"]) == {"get"}
    # The token header is documented, so clients know how to authenticate.
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


def test_the_openapi_schema_is_served_as_yaml_by_default(db):
    response = Client().get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/subscribers/" in response.content
