"""The composer's "Write it for me" panel and its endpoint, and the message checks the composer shows and enforces."""

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign
from tests.helpers import text_in

CREATE = reverse("dashboard:campaign-create")
DRAFT = reverse("dashboard:campaign-draft")
MEASURE = reverse("dashboard:campaign-measure")
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
GOOD = "Tony's Pizza: 2 for 1 pizza tonight! Reply STOP to cancel"


def ask(client, fragment=True, **data):
    data = {"brief": "20% off pizzas this Friday, families", "tone": "", "max_segments": "1", **data}
    return client.post(DRAFT, data, **(FETCH if fragment else {}))


# --- The panel ----------------------------------------------------------------------------------------------------


def test_the_composer_offers_the_panel(client, fake_openai, tenant_a):
    client.force_login(tenant_a.admin.user)
    html = client.get(CREATE).content.decode()
    assert "Write it for me" in html
    assert f'action="{DRAFT}"' in html
    assert '<label for="id_brief">What is the text about?</label>' in html
    assert '<label for="id_tone">Tone' in html and '<label for="id_max_segments">Length</label>' in html
    assert html.count("<h1") == 1


def test_without_a_key_the_panel_says_it_is_not_set_up_and_the_composer_still_works(client, settings, tenant_a):
    settings.OPENAI_API_KEY = ""
    client.force_login(tenant_a.admin.user)
    html = client.get(CREATE).content.decode()
    assert "Writing help is not set up" in html and 'action="' + DRAFT not in html
    response = ask(client)
    assert response.status_code == 503
    assert "not set up" in response.content.decode()
    data = {"name": "x", "body": GOOD, "sender_number": tenant_a.number.pk, "audience": "all", "when": "now"}
    assert client.post(CREATE, {**data, "action": "save"}).status_code == 302


def test_drafts_come_back_with_their_checks_and_a_button_to_use_them(client, fake_openai, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = ask(client)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("data-use-draft") == 3 and html.count("Passes the checks") == 3
    assert "Tony&#x27;s Pizza: 20% off pizzas this Friday, families! Reply STOP to opt out" in html
    assert "We replaced &#x27;’&#x27; with &quot;&#x27;&quot;." in html
    assert "<html" not in html  # a fragment for the composer's script


def test_without_the_script_the_answer_is_a_page(client, fake_openai, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = ask(client, fragment=False)
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Write it for me</h1>" in html and "Passes the checks" in html


def test_a_flagged_draft_shows_the_reason(client, fake_openai, tenant_a):
    fake_openai.answer_with(["Tony's Pizza: free beer with every pizza! Reply STOP to opt out"])
    client.force_login(tenant_a.admin.user)
    html = ask(client).content.decode()
    assert "Mentions alcohol" in html and "“beer”" in html


def test_when_every_draft_fails_none_is_shown_as_valid(client, fake_openai, tenant_a):
    fake_openai.answer_with(["Tony's Pizza: bit.ly/x Reply STOP to opt out", "Tony's Pizza: " + "x" * 300])
    client.force_login(tenant_a.admin.user)
    response = ask(client)
    html = response.content.decode()
    assert response.status_code == 200
    assert "None of the drafts passed the checks" in html and "Passes the checks" not in html and "bit.ly" not in html


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"brief": ""}, "id_brief", "Say what the text is about"),
        ({"brief": "x" * 5000}, "id_brief", "1000 characters or fewer"),
        ({"tone": "t" * 200}, "id_tone", "60 characters or fewer"),
        ({"max_segments": "9"}, "id_max_segments", "Choose how long the text may be."),
        ({"max_segments": "abc"}, "id_max_segments", "Choose how long the text may be."),
    ],
)
def test_form_errors_show_next_to_the_field(client, fake_openai, tenant_a, data, field_id, message):
    client.force_login(tenant_a.admin.user)
    response = ask(client, **data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="error" id="{field_id}_error">' in html and message in html
    assert fake_openai.requests == []


def test_garbage_never_500s(client, fake_openai, tenant_a):
    client.force_login(tenant_a.admin.user)
    for data in ({}, {"brief": "\x00" * 10}, {"brief": "ok", "max_segments": "1e99"}, {"brief": ["a", "b"]}):
        assert client.post(DRAFT, data, **FETCH).status_code in (200, 400)
    broken = "brief=%ED%A0%80%FF+ok&max_segments=1"  # not UTF-8 at all
    response = client.post(DRAFT, broken, content_type="application/x-www-form-urlencoded", **FETCH)
    assert response.status_code in (200, 400)
    assert client.get(DRAFT).status_code == 405


@pytest.mark.parametrize(("status", "expected", "words"), [(429, 503, "busy"), (500, 502, "could not write")])
def test_provider_failures_are_a_message_not_a_500(client, fake_openai, tenant_a, status, expected, words):
    fake_openai.fail(status=status)
    client.force_login(tenant_a.admin.user)
    response = ask(client)
    assert response.status_code == expected and words in response.content.decode()


def test_a_provider_timeout_is_a_message(client, fake_openai, tenant_a, settings):
    settings.OPENAI_TIMEOUT = 0.3
    fake_openai.state.latency = 1.0
    client.force_login(tenant_a.admin.user)
    response = ask(client)
    assert response.status_code == 503 and "took too long" in response.content.decode()


def test_the_hourly_limit_is_a_message(client, fake_openai, tenant_a, settings):
    settings.AI_DRAFTS_PER_HOUR = 1
    client.force_login(tenant_a.admin.user)
    assert ask(client).status_code == 200
    response = ask(client)
    assert response.status_code == 429 and "this hour" in response.content.decode()


def test_members_may_not_ask_for_drafts(client, fake_openai, tenant_a):
    client.force_login(tenant_a.member.user)
    response = ask(client)
    assert response.status_code == 403 and "Admin" in response.content.decode()
    assert fake_openai.requests == []


def test_logged_out_is_sent_to_the_login_page(client, fake_openai, db):
    response = client.post(DRAFT, {"brief": "x"})
    assert response.status_code == 302 and "/login" in response["Location"]


def test_drafts_are_about_the_current_business_only(client, fake_openai, tenant_a, tenant_b):
    """No object ids here: the business is the session's, and nothing posted can point at another one."""
    text_in(from_number="+12125550143", to_number=tenant_b.number.phone_number, text="JOIN")
    client.force_login(tenant_a.admin.user)
    html = ask(client, business=str(tenant_b.business.pk), business_id=str(tenant_b.business.pk)).content.decode()
    assert "Tony&#x27;s Pizza" in html and "Bella" not in html
    user = fake_openai.completions()[0]["messages"][-1]["content"]
    assert "Tony's Pizza" in user and "Bella" not in user and "2125550143" not in user


# --- The composer's checks on hand-written texts ---------------------------------------------------------------------


def measure(client, body, **extra):
    response = client.post(MEASURE, {"body": body, "audience": "all", **extra})
    assert response.status_code == 200
    return response.json()["check"]


@pytest.mark.parametrize(
    ("body", "problems", "flags"),
    [
        (GOOD, [], []),
        ("2 for 1 pizza tonight! Reply STOP to cancel", ["business-name"], []),
        ("Tony's Pizza: 2 for 1 pizza tonight!", ["opt-out"], []),
        ("Tony's Pizza: menu bit.ly/abc. Reply STOP to cancel", ["shortener"], []),
        ("Tony's Pizza: beer and wings! Reply STOP to cancel", [], ["shaft-alcohol"]),
    ],
)
def test_measure_reports_the_checks_as_you_type(client, tenant_a, body, problems, flags):
    client.force_login(tenant_a.admin.user)
    check = measure(client, body)
    assert [p["code"] for p in check["problems"]] == problems
    assert [f["code"] for f in check["flags"]] == flags
    assert check["ok"] is (not problems)


def test_measure_notes_a_curly_quote_that_costs_segments(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    check = measure(client, "Tony\u2019s Pizza: tonight. Reply STOP to cancel")
    assert check["encoding"] == "UCS-2" and "UCS-2" in check["notes"][0]


def test_measure_of_nothing_has_no_check(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    assert measure(client, "") is None


def test_the_composer_shows_the_problems_of_the_text_it_opens_with(client, tenant_a):
    campaign = services.campaign_create(
        business=tenant_a.business, created_by=tenant_a.owner.user, name="n", body="Pizza tonight",
        sender_number=tenant_a.number,
    )  # fmt: skip
    client.force_login(tenant_a.admin.user)
    html = client.get(reverse("dashboard:campaign-edit", args=[campaign.pk])).content.decode()
    assert "Can't be sent yet" in html and "include your business name" in html


def compose(tenant, body, action):
    return {
        "name": "Friday", "body": body, "sender_number": tenant.number.pk, "audience": "all", "track_links": "on",
        "when": "now", "action": action,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2 for 1 pizza tonight! Reply STOP to cancel", "include your business name"),
        ("Tony's Pizza: 2 for 1 pizza tonight!", "End the text with how to stop"),
        ("Tony's Pizza: bit.ly/x. Reply STOP to cancel", "Carriers block texts with bit.ly links"),
    ],
)
def test_a_text_with_problems_can_be_saved_but_not_sent(client, tenant_a, body, message):
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, compose(tenant_a, body, "launch"))
    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="error" id="id_body_error">' in html and message in html
    assert not Campaign.objects.exists()

    assert client.post(CREATE, compose(tenant_a, body, "save")).status_code == 302
    campaign = Campaign.objects.get()
    response = client.post(reverse("dashboard:campaign-launch", args=[campaign.pk]), follow=True)
    assert "This text cannot be sent yet" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_a_flagged_text_can_still_be_sent(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, compose(tenant_a, "Tony's Pizza: beer night! Reply STOP to cancel", "launch"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    client.post(reverse("dashboard:campaign-launch", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status != Campaign.Status.DRAFT
