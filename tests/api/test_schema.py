"""The OpenAPI schema at /api/schema/ says what the API answers: fields that can be null are nullable, every error
status an operation can answer is declared with the {"error", "details"} body, and `page_size` has the bounds it
enforces. .ci/api-fuzz checks the same with schemathesis against a live server; these tests pin what it found."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from campaigns import services as campaign_services
from messaging.models import Message
from subscribers.services import number_delete
from tests.factories import SenderNumberFactory
from tests.helpers import api_client

ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def schema(db):
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema, method, path):
    return schema["paths"][path][method]


def _declared(schema, method, path):
    return set(_operation(schema, method, path)["responses"])


def _error_body(schema, method, path, status):
    return _operation(schema, method, path)["responses"][str(status)]["content"]["application/json"]["schema"]


# --- nullability ------------------------------------------------------------------------------------------------------


def test_a_campaign_and_a_message_whose_number_was_deleted_answer_null_and_the_schema_says_they_may(tenant_a, schema):
    gone = SenderNumberFactory(business=tenant_a.business)
    campaign = campaign_services.campaign_create(
        business=tenant_a.business, name="Weekend", body="Tony's Pizza: 2 for 1", sender_number=gone
    )
    message = Message.objects.create(
        business=tenant_a.business, sender_number=gone, phone_number="+12025550142", body="Hello"
    )
    number_delete(instance=gone)
    client = api_client(tenant_a.member)

    assert client.get(f"/api/v1/campaigns/{campaign.pk}/").json()["number"] is None
    assert client.get("/api/v1/campaigns/").json()["results"][0]["number"] is None
    assert client.get(f"/api/v1/messages/{message.pk}/").json()["sender_number"] is None
    components = schema["components"]["schemas"]
    assert components["Campaign"]["properties"]["number"]["nullable"] is True
    assert components["CampaignDetail"]["properties"]["number"]["nullable"] is True
    assert components["Message"]["properties"]["sender_number"]["nullable"] is True


def test_a_campaign_is_still_written_with_a_number(tenant_a, schema):
    """Null comes back only once the number is gone: a request must name one, and the schema says so."""
    request = schema["components"]["schemas"]["CampaignRequest"]
    assert "number" in request["required"]
    assert not request["properties"]["number"].get("nullable")

    response = api_client(tenant_a.admin).post(
        "/api/v1/campaigns/", {"name": "Weekend", "body": "Tony's Pizza: 2 for 1", "number": None}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("number:")


# --- error statuses ---------------------------------------------------------------------------------------------------

# (method, path, statuses it must declare besides its success)
OPERATIONS = [
    ("get", "/api/v1/numbers/", {"400", "401", "403", "404"}),  # 404: a cursor that is not one
    ("post", "/api/v1/numbers/", {"400", "401", "403", "503"}),
    ("get", "/api/v1/numbers/{id}/", {"401", "403", "404"}),
    ("delete", "/api/v1/numbers/{id}/", {"401", "403", "404"}),
    ("patch", "/api/v1/keywords/{id}/", {"400", "401", "403", "404"}),
    ("get", "/api/v1/subscribers/", {"400", "401", "403", "404"}),
    ("put", "/api/v1/subscribers/{id}/", {"400", "401", "403", "404"}),
    ("get", "/api/v1/consent-events/{id}/", {"401", "403", "404"}),
    ("delete", "/api/v1/suppressions/{id}/", {"401", "403", "404"}),
    ("post", "/api/v1/campaigns/{id}/launch/", {"400", "401", "403", "404"}),
    ("post", "/api/v1/campaigns/{id}/cancel/", {"400", "401", "403", "404"}),
    ("post", "/api/v1/campaigns/draft/", {"400", "401", "403", "429", "502", "503"}),
    ("get", "/api/v1/messages/", {"400", "401", "403", "404"}),
    ("post", "/api/v1/messages/", {"400", "401", "403"}),
    ("get", "/api/v1/qr-codes/{id}/image.svg", {"400", "401", "403", "404"}),
    ("post", "/api/v1/auth/login/", {"400", "429"}),
    ("post", "/api/v1/auth/signup/", {"400", "429"}),
    ("post", "/api/v1/auth/logout/", {"401", "403"}),
]


@pytest.mark.parametrize(("method", "path", "errors"), OPERATIONS)
def test_each_operation_declares_the_errors_it_can_answer_with_the_error_body(schema, method, path, errors):
    assert errors <= _declared(schema, method, path)
    for status in errors:
        assert _error_body(schema, method, path, status) == ERROR


def test_every_operation_declares_its_errors(schema):
    """Nothing left out: every operation that needs a token declares 401 and 403, every one with an id 404."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            if {"tokenAuth": []} in operation.get("security", []):
                assert {"401", "403"} <= declared, (method, path)
            if "{id}" in path:
                assert "404" in declared, (method, path)
            if method in ("post", "put", "patch") and path != "/api/v1/auth/logout/":
                assert "400" in declared, (method, path)


def test_the_auth_endpoints_declare_no_401_they_need_no_token(schema):
    assert "401" not in _declared(schema, "post", "/api/v1/auth/login/")
    assert "403" not in _declared(schema, "post", "/api/v1/auth/login/")


def test_the_error_body_is_declared_as_the_api_answers_it(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["type"] == "string"
    assert "details" in error["properties"]


def test_throttled_and_unavailable_answers_declare_retry_after(schema):
    login = _operation(schema, "post", "/api/v1/auth/login/")["responses"]["429"]
    assert "Retry-After" in login["headers"]
    draft = _operation(schema, "post", "/api/v1/campaigns/draft/")["responses"]["429"]
    assert "Retry-After" in draft["headers"]


def _answers(response, schema, method, path):
    assert str(response.status_code) in _declared(schema, method, path), response.status_code
    assert set(response.json()) <= {"error", "details"}
    assert response.json()["error"]


def test_the_errors_the_api_really_answers_are_the_declared_ones(tenant_a, tenant_b, schema, settings):
    member = api_client(tenant_a.member)
    owner = api_client(tenant_a.owner)
    other = tenant_b.number

    # 403: a member may not add a number
    response = member.post("/api/v1/numbers/", {"phone_number": "+12025550190"}, format="json")
    assert response.status_code == 403
    _answers(response, schema, "post", "/api/v1/numbers/")
    # 404: another business's number, and a cursor that is not one
    response = owner.get(f"/api/v1/numbers/{other.pk}/")
    assert response.status_code == 404
    _answers(response, schema, "get", "/api/v1/numbers/{id}/")
    response = owner.get("/api/v1/numbers/", {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    _answers(response, schema, "get", "/api/v1/numbers/")
    # 401: no token
    response = Client().get("/api/v1/numbers/")
    assert response.status_code == 401
    _answers(response, schema, "get", "/api/v1/numbers/")
    # 503: drafting is not set up here
    settings.OPENAI_API_KEY = ""
    response = api_client(tenant_a.admin).post("/api/v1/campaigns/draft/", {"brief": "pizza"}, format="json")
    assert response.status_code == 503
    _answers(response, schema, "post", "/api/v1/campaigns/draft/")


def test_a_throttled_login_is_a_declared_429(db, schema, settings):
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    client = Client()
    body = {"email": "nobody@example.com", "password": "wrong"}
    for _ in range(allowed):
        client.post("/api/v1/auth/login/", body, content_type="application/json")

    response = client.post("/api/v1/auth/login/", body, content_type="application/json")

    assert response.status_code == 429
    assert response["Retry-After"]
    _answers(response, schema, "post", "/api/v1/auth/login/")


# --- page_size --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["abc", "", "0", "-1", "1.5", "501", "100000", "²", " 5"])
def test_a_page_size_that_is_not_1_to_500_is_a_400_that_says_so(tenant_a, page_size):
    response = api_client(tenant_a.member).get("/api/v1/numbers/", {"page_size": page_size})

    assert response.status_code == 400
    assert response.json()["error"] == "page_size: Give a whole number from 1 to 500."
    assert response.json()["details"] == {"page_size": ["Give a whole number from 1 to 500."]}


@pytest.mark.parametrize("page_size", ["1", "500"])
def test_a_page_size_from_1_to_500_is_used(tenant_a, page_size):
    SenderNumberFactory(business=tenant_a.business)

    response = api_client(tenant_a.member).get("/api/v1/numbers/", {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(int(page_size), 2)


def test_the_schema_gives_page_size_its_bounds(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "page_size":
                    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}, (method, path)
                    assert "1 to 500" in parameter["description"]
    assert any(p["name"] == "page_size" for p in _operation(schema, "get", "/api/v1/messages/")["parameters"])


# --- what the fuzz run found ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/numbers/1.4e-45/", "/api/v1/campaigns/0.5/launch/", "/api/v1/qr-codes/0.5/image.png"]
)
def test_an_api_address_nothing_answers_is_a_json_404_in_production(tenant_a, settings, path):
    """An id the router's pattern does not take (a dot in it) never reaches the API's views: the 404 is Django's."""
    settings.DEBUG = False

    response = api_client(tenant_a.owner).post(path) if "launch" in path else api_client(tenant_a.owner).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found: nothing answers at this address; GET /api/v1/ lists what does."}


def test_a_page_nothing_answers_is_still_the_html_page(tenant_a, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(tenant_a.owner.user)

    response = client.get("/app/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_deleting_a_campaign_that_is_not_a_draft_is_a_declared_400(tenant_a, schema):
    campaign = campaign_services.campaign_create(
        business=tenant_a.business, name="Weekend", body="Tony's Pizza: 2 for 1", sender_number=tenant_a.number
    )
    campaign.status = campaign.Status.CANCELLED
    campaign.save(update_fields=["status"])

    response = api_client(tenant_a.owner).delete(f"/api/v1/campaigns/{campaign.pk}/")

    assert response.status_code == 400
    _answers(response, schema, "delete", "/api/v1/campaigns/{id}/")


def test_the_bounds_the_api_enforces_are_in_the_schema(schema, tenant_a):
    size = next(
        p for p in _operation(schema, "get", "/api/v1/qr-codes/{id}/image.png")["parameters"] if p["name"] == "size"
    )
    assert size["schema"] == {"type": "integer", "minimum": 100, "maximum": 4000}
    rate = schema["components"]["schemas"]["NumberRequest"]["properties"]["messages_per_second"]
    assert (rate["minimum"], rate["maximum"]) == (1, 1000)

    response = api_client(tenant_a.admin).post(
        "/api/v1/numbers/", {"phone_number": "+12025550191", "messages_per_second": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"messages_per_second": ["Use a rate between 1 and 1000 messages per second."]}
