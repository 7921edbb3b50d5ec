"""POST /api/v1/campaigns/draft/: checked drafts from a brief, for admins, about the caller's own business only."""

import pytest
from django.test import Client

from tests.helpers import api_client

DRAFT = "/api/v1/campaigns/draft/"


def post(membership, data):
    return api_client(membership).post(DRAFT, data, format="json")


def test_an_admin_gets_checked_drafts(fake_openai, tenant_a):
    response = post(tenant_a.admin, {"brief": "20% off pizzas this Friday, families", "tone": "fun", "max_segments": 1})
    assert response.status_code == 200, response.content
    drafts = response.json()["drafts"]
    assert 1 <= len(drafts) <= 3
    for draft in drafts:
        assert set(draft) == {"body", "notes", "flags", "segments", "encoding"}
        assert draft["body"].endswith("Reply STOP to opt out") and "Tony's Pizza" in draft["body"]
        assert (draft["segments"], draft["encoding"]) == (1, "GSM-7")
    assert any("replaced '’'" in note for draft in drafts for note in draft["notes"])


def test_flags_come_with_their_reason(fake_openai, tenant_a):
    fake_openai.answer_with(["Tony's Pizza: a free beer with every large pizza! Reply STOP to opt out"])
    (draft,) = post(tenant_a.owner, {"brief": "beer offer"}).json()["drafts"]
    assert [f["code"] for f in draft["flags"]] == ["shaft-alcohol"]
    assert "alcohol" in draft["flags"][0]["message"]


def test_a_member_may_not_ask(fake_openai, tenant_a):
    response = post(tenant_a.member, {"brief": "20% off"})
    assert response.status_code == 403
    assert "admin" in response.json()["error"]
    assert fake_openai.requests == []


def test_anonymous_is_refused(fake_openai, db):
    assert Client().post(DRAFT, {"brief": "x"}, content_type="application/json").status_code in (401, 403)


def test_drafts_are_always_about_the_callers_business(fake_openai, tenant_a, tenant_b):
    """The business comes from the token; nothing in the body can point the request at another one."""
    body = {"brief": "open house Sunday", "business": tenant_a.business.pk, "business_id": tenant_a.business.pk}
    response = post(tenant_b.admin, body)
    assert response.status_code == 200
    assert all("Bella Realty" in d["body"] and "Tony" not in d["body"] for d in response.json()["drafts"])
    user = fake_openai.completions()[0]["messages"][-1]["content"]
    assert "Bella Realty" in user and "Tony" not in user


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "brief"),
        ({"brief": ""}, "brief"),
        ({"brief": "x" * 5000}, "brief"),
        ({"brief": "ok", "tone": "t" * 500}, "tone"),
        ({"brief": "ok", "max_segments": 0}, "max_segments"),
        ({"brief": "ok", "max_segments": "lots"}, "max_segments"),
        ({"brief": "ok", "max_segments": 10**30}, "max_segments"),
        ({"brief": ["a", "b"]}, "brief"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(fake_openai, tenant_a, data, field):
    response = post(tenant_a.admin, data)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "details"} and field in body["details"]
    assert fake_openai.requests == []


def test_not_configured_is_a_503_that_says_so(settings, tenant_a):
    settings.OPENAI_API_KEY = ""
    response = post(tenant_a.admin, {"brief": "20% off"})
    assert response.status_code == 503
    assert "not set up" in response.json()["error"]


def test_a_provider_timeout_is_a_503_with_a_clear_message(fake_openai, tenant_a, settings):
    settings.OPENAI_TIMEOUT = 0.3
    fake_openai.state.latency = 1.0
    response = post(tenant_a.admin, {"brief": "20% off"})
    assert response.status_code == 503
    assert response.json() == {"error": "The writing service took too long to answer. Try again in a minute."}


def test_a_provider_429_is_a_503_with_a_clear_message(fake_openai, tenant_a):
    fake_openai.fail(status=429)
    response = post(tenant_a.admin, {"brief": "20% off"})
    assert response.status_code == 503
    assert "busy" in response.json()["error"]


def test_a_provider_error_is_a_502(fake_openai, tenant_a):
    fake_openai.fail(status=500, message="internal details", type="server_error")
    response = post(tenant_a.admin, {"brief": "20% off"})
    assert response.status_code == 502
    assert "internal details" not in response.json()["error"]


def test_the_per_business_limit_is_a_429_with_retry_after(fake_openai, tenant_a, tenant_b, settings):
    settings.AI_DRAFTS_PER_HOUR = 1
    assert post(tenant_a.admin, {"brief": "20% off"}).status_code == 200
    response = post(tenant_a.admin, {"brief": "20% off"})
    assert response.status_code == 429
    assert "1 time this hour" in response.json()["error"] and int(response["Retry-After"]) > 0
    assert post(tenant_b.admin, {"brief": "open house"}).status_code == 200
