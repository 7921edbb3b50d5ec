"""/api/v1/campaigns/ and /api/v1/messages/: drafts measured and validated, launched through the send pipeline to the
fake Telnyx server, transactional sends only to numbers that opted in, and one business never reaching another's."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from campaigns.models import Campaign
from messaging import services as messaging_services
from messaging.models import Message
from subscribers.models import Subscriber
from tests.factories import SenderNumberFactory
from tests.helpers import api_client, text_in

CAMPAIGNS = "/api/v1/campaigns/"
MESSAGES = "/api/v1/messages/"
NEW_YORK = "+12125550143"
NEW_YORK_2 = "+12125550144"
STOPPED = "+12125550145"  # texted JOIN, then STOP
STRANGER = "+12125550199"  # never texted anyone
MISSING_ID = 987_654_321
# 18:00 UTC on a winter weekday: 13:00 in New York, well inside the marketing window.
DAYTIME = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)
# 03:30 UTC: 22:30 in New York, quiet hours.
NIGHT = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)
LATER = "2026-01-16T18:00:00Z"  # a send_at two days after DAYTIME
STATS_KEYS = {
    "recipients", "queued", "sent", "delivered", "failed", "blocked", "skipped_suppressed", "skipped_frequency",
    "waiting_quiet_hours", "opt_outs", "segments", "cost",
}  # fmt: skip


def _join(tenant, phone=NEW_YORK):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text="JOIN")


def _stop(tenant, phone):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text="STOP")


def _draft(tenant, client=None, **fields):
    """A campaign created through the API; returns its JSON."""
    body = {
        "name": "Pizza night",
        "body": f"{tenant.business.name}: 2 for 1 tonight only! Reply STOP to opt out",
        "number": tenant.number.pk,
        **fields,
    }
    response = (client or api_client(tenant.owner)).post(CAMPAIGNS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _launch(client, campaign_id):
    """Launch, and run what production runs after the request commits: the fan-out and the send tasks."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"{CAMPAIGNS}{campaign_id}/launch/")


def _ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def _error(response, field):
    """The readable sentence of a 400, after checking it blames `field`."""
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload["details"], payload
    assert isinstance(payload["error"], str) and payload["error"]
    return payload["error"]


def _snapshot(obj):
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


@pytest.fixture
def daytime(time_machine):
    """Marketing may go out: it is 13:00 in New York, whatever the hour the suite runs."""
    time_machine.move_to(DAYTIME)


@pytest.fixture
def owner(daytime, tenant_a):
    """Business A's owner, at a fixed daytime clock: scheduled campaigns are due at a known distance from now."""
    return api_client(tenant_a.owner)


@pytest.fixture
def audience(daytime, tenant_a, fake_telnyx):
    """Two subscribed New York numbers and one that texted STOP; the fake server's log starts empty."""
    for phone in (NEW_YORK, NEW_YORK_2, STOPPED):
        _join(tenant_a, phone)
    _stop(tenant_a, STOPPED)
    fake_telnyx.reset()
    return tenant_a


# --- creating and measuring drafts ----------------------------------------------------------------------------------


def test_windows_line_breaks_are_stored_as_plain_ones_so_they_are_not_billed_twice(tenant_a, owner):
    body = "Pizza night\r\n2 for 1\rtonight"
    response = owner.post(CAMPAIGNS, {"name": "Lines", "body": body, "number": tenant_a.number.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Campaign.objects.get().body == "Pizza night\n2 for 1\ntonight"
    assert response.json()["measurement"]["units"] == len("Pizza night\n2 for 1\ntonight")


def test_a_created_campaign_is_a_draft_measured_for_billing(tenant_a, owner):
    response = owner.post(
        CAMPAIGNS, {"name": "Pizza night", "body": "2 for 1 tonight only!", "number": tenant_a.number.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["number"], created["tags"], created["media_urls"]) == (
        "draft", tenant_a.number.pk, [], []
    )  # fmt: skip
    assert created["measurement"] == {
        "encoding": "GSM-7", "segments": 1, "units": 21, "per_segment": 160, "non_gsm_characters": [], "mms": False,
        "summary": "1 segment, GSM-7",
    }  # fmt: skip
    campaign = Campaign.objects.get(pk=created["id"])
    assert (campaign.business, campaign.created_by, campaign.status) == (
        tenant_a.business,
        tenant_a.owner.user,
        "draft",
    )


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "non_gsm"),
    [
        ("Café crème brûlée", "UCS-2", 1, ["û"]),
        ("Café crème ce soir", "GSM-7", 1, []),  # é and è are in the GSM alphabet
        ("Olá, pizza hoje!", "UCS-2", 1, ["á"]),
        ("Pizza tonight \N{SLICE OF PIZZA}", "UCS-2", 1, ["\N{SLICE OF PIZZA}"]),
        ("x" * 160, "GSM-7", 1, []),
        ("x" * 161, "GSM-7", 2, []),
        ("á" * 71, "UCS-2", 2, ["á"]),
        ("Deal {today}", "GSM-7", 1, []),  # braces are GSM extension characters, not UCS-2
    ],
)
def test_the_measurement_shows_encoding_segments_and_the_characters_that_forced_ucs2(
    tenant_a, owner, body, encoding, segments, non_gsm
):
    measurement = _draft(tenant_a, owner, body=body)["measurement"]

    assert (measurement["encoding"], measurement["segments"], measurement["non_gsm_characters"]) == (
        encoding, segments, non_gsm
    )  # fmt: skip
    assert measurement["summary"].startswith(f"{segments} segment")
    assert encoding in measurement["summary"]
    for char in non_gsm:
        assert repr(char) in measurement["summary"]


def test_media_makes_the_campaign_one_mms(tenant_a, owner):
    created = _draft(tenant_a, owner, body="x" * 400, media_urls=["https://cdn.example.com/pizza.jpg"])

    assert created["media_urls"] == ["https://cdn.example.com/pizza.jpg"]
    assert (created["measurement"]["mms"], created["measurement"]["segments"]) == (True, 1)
    assert created["measurement"]["summary"] == "MMS (media attached)"


def test_tags_name_the_audience_in_any_case(tenant_a, owner):
    _join(tenant_a)
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=NEW_YORK)
    assert owner.patch(f"/api/v1/subscribers/{subscriber.pk}/", {"tags": ["vip"]}, format="json").status_code == 200

    created = _draft(tenant_a, owner, tags=["VIP", " vip "])

    assert created["tags"] == ["vip"]
    assert list(Campaign.objects.get(pk=created["id"]).tags.values_list("name", flat=True)) == ["vip"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"body": ""}, "body", "blank"),
        ({"body": "   "}, "body", "blank"),
        ({"body": "x" * 1601}, "body", "limit is 1600"),
        ({"name": ""}, "name", "blank"),
        ({"tags": ["nobody-has-this"]}, "tags", "nobody-has-this"),
        ({"media_urls": ["ftp://cdn.example.com/pizza.jpg"]}, "media_urls", "http(s)"),
        ({"media_urls": ["/pizza.jpg"]}, "media_urls", "http(s)"),
        ({"media_urls": [f"https://cdn.example.com/{n}.jpg" for n in range(11)]}, "media_urls", "At most 10"),
        ({"number": "first"}, "number", "integer"),
        ({"number": None}, "number", "null"),
        ({"send_at": "tomorrow"}, "send_at", "format"),
    ],
)
def test_an_invalid_campaign_is_refused_with_what_to_fix(tenant_a, owner, fields, field, says):
    body = {"name": "Pizza night", "body": "2 for 1 tonight only!", "number": tenant_a.number.pk, **fields}

    response = owner.post(CAMPAIGNS, body, format="json")

    error = _error(response, field)
    assert field in error and says in error
    assert not Campaign.objects.exists()


def test_a_missing_number_is_refused(tenant_a, owner):
    response = owner.post(CAMPAIGNS, {"name": "Pizza night", "body": "2 for 1"}, format="json")

    assert "required" in _error(response, "number")
    assert not Campaign.objects.exists()


def test_another_business_number_is_refused_exactly_like_a_missing_one(tenant_a, tenant_b, owner):
    foreign, body = tenant_b.number.pk, {"name": "Pizza night", "body": "2 for 1"}

    on_foreign = owner.post(CAMPAIGNS, {**body, "number": foreign}, format="json")
    on_missing = owner.post(CAMPAIGNS, {**body, "number": MISSING_ID}, format="json")

    foreign_error, missing_error = _error(on_foreign, "number"), _error(on_missing, "number")
    assert f"No number with id {foreign} in your business" in foreign_error
    assert foreign_error.replace(str(foreign), "<id>") == missing_error.replace(str(MISSING_ID), "<id>")
    assert tenant_b.number.phone_number not in on_foreign.content.decode()
    assert not Campaign.objects.exists()


# --- reading --------------------------------------------------------------------------------------------------------


def test_campaigns_are_listed_newest_first_and_retrieved_with_stats(tenant_a, owner):
    first = _draft(tenant_a, owner, name="First")
    second = _draft(tenant_a, owner, name="Second", body="Olá")

    listed = owner.get(CAMPAIGNS).json()["results"]
    detail = owner.get(f"{CAMPAIGNS}{second['id']}/")

    assert [item["id"] for item in listed] == [second["id"], first["id"]]
    assert all("measurement" in item for item in listed)
    assert detail.status_code == 200
    retrieved = detail.json()
    assert (retrieved["name"], retrieved["status"], retrieved["measurement"]["encoding"]) == (
        "Second",
        "draft",
        "UCS-2",
    )
    assert STATS_KEYS <= set(retrieved["stats"])
    assert {key: retrieved["stats"][key] for key in STATS_KEYS - {"cost"}} == dict.fromkeys(STATS_KEYS - {"cost"}, 0)
    assert retrieved["stats"]["cost"] is None


def test_an_unknown_campaign_is_not_found(owner):
    response = owner.get(f"{CAMPAIGNS}{MISSING_ID}/")

    assert response.status_code == 404
    assert response.json()["error"]


@pytest.mark.parametrize("status", ["draft", "scheduled", "cancelled"])
def test_campaigns_are_filtered_by_status(tenant_a, owner, status):
    ids = {"draft": _draft(tenant_a, owner)["id"]}
    ids["scheduled"] = _draft(tenant_a, owner, send_at=LATER)["id"]
    assert owner.post(f"{CAMPAIGNS}{ids['scheduled']}/launch/").status_code == 202
    ids["cancelled"] = _draft(tenant_a, owner)["id"]
    assert owner.post(f"{CAMPAIGNS}{ids['cancelled']}/cancel/").status_code == 200

    assert _ids(owner.get(CAMPAIGNS, {"status": status})) == {ids[status]}


def test_an_unknown_status_filter_is_refused_with_the_choices(tenant_a, owner):
    _draft(tenant_a, owner)

    error = _error(owner.get(CAMPAIGNS, {"status": "finished"}), "status")

    assert "'finished'" in error
    assert all(choice in error for choice in Campaign.Status.values)


# --- editing drafts -------------------------------------------------------------------------------------------------


def test_a_draft_is_edited_and_measured_again(tenant_a, owner):
    created = _draft(tenant_a, owner)
    other_number = SenderNumberFactory(business=tenant_a.business)

    response = owner.patch(
        f"{CAMPAIGNS}{created['id']}/", {"body": "Olá, pizza hoje!", "number": other_number.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["body"], response.json()["number"]) == ("Olá, pizza hoje!", other_number.pk)
    assert response.json()["measurement"]["non_gsm_characters"] == ["á"]
    campaign = Campaign.objects.get(pk=created["id"])
    assert (campaign.body, campaign.sender_number) == ("Olá, pizza hoje!", other_number)


def test_a_draft_edit_is_validated_like_a_new_one(tenant_a, tenant_b, owner):
    created = _draft(tenant_a, owner)
    campaign = Campaign.objects.get(pk=created["id"])
    before = _snapshot(campaign)

    for fields, field in [
        ({"body": ""}, "body"),
        ({"tags": ["nobody-has-this"]}, "tags"),
        ({"number": tenant_b.number.pk}, "number"),
        ({"media_urls": ["mailto:pizza@example.com"]}, "media_urls"),
    ]:
        _error(owner.patch(f"{CAMPAIGNS}{created['id']}/", fields, format="json"), field)

    assert _snapshot(campaign) == before


def test_a_draft_is_deleted(tenant_a, owner):
    created = _draft(tenant_a, owner)

    response = owner.delete(f"{CAMPAIGNS}{created['id']}/")

    assert response.status_code == 204
    assert not Campaign.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("patch", {"body": "Changed"}), ("put", {"name": "Changed", "body": "Changed"}), ("delete", None)],
)
def test_a_launched_campaign_can_no_longer_be_edited_or_deleted(tenant_a, owner, method, body):
    created = _draft(tenant_a, owner, send_at=LATER)
    assert owner.post(f"{CAMPAIGNS}{created['id']}/launch/").status_code == 202
    campaign = Campaign.objects.get(pk=created["id"])
    before = _snapshot(campaign)
    if body is not None:
        body = {**body, "number": tenant_a.number.pk}

    response = getattr(owner, method)(f"{CAMPAIGNS}{created['id']}/", body, format="json")

    error = _error(response, "status")
    assert "draft" in error and "scheduled" in error
    assert _snapshot(campaign) == before


# --- launching, scheduling, cancelling ------------------------------------------------------------------------------


def test_launching_freezes_the_audience_and_sends_through_telnyx(audience, owner, fake_telnyx):
    created = _draft(audience, owner)

    response = _launch(owner, created["id"])

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "sending"
    sent = fake_telnyx.messages()
    assert sorted(m["to"] for m in sent) == [NEW_YORK, NEW_YORK_2]  # not the number that texted STOP
    assert {(m["from"], m["text"]) for m in sent} == {
        (audience.number.phone_number, f"{audience.business.name}: 2 for 1 tonight only! Reply STOP to opt out")
    }

    # Someone who subscribes after the launch is not added to it.
    _join(audience, "+12125550146")
    campaign = Campaign.objects.get(pk=created["id"])
    assert set(campaign.messages.values_list("phone_number", flat=True)) == {NEW_YORK, NEW_YORK_2}

    retrieved = owner.get(f"{CAMPAIGNS}{created['id']}/").json()
    assert retrieved["status"] == "sent"
    assert retrieved["launched_at"] is not None and retrieved["completed_at"] is not None
    stats = retrieved["stats"]
    assert {key: stats[key] for key in ("recipients", "queued", "sent", "failed", "blocked", "segments")} == {
        "recipients": 2, "queued": 0, "sent": 2, "failed": 0, "blocked": 0, "segments": 2,
    }  # fmt: skip


def test_stats_count_the_messages_waiting_for_the_morning(time_machine, tenant_a, fake_telnyx):
    time_machine.move_to(NIGHT)
    _join(tenant_a)
    fake_telnyx.reset()
    client = api_client(tenant_a.owner)
    created = _draft(tenant_a, client)

    assert _launch(client, created["id"]).status_code == 202

    assert fake_telnyx.messages() == []
    retrieved = client.get(f"{CAMPAIGNS}{created['id']}/").json()
    assert retrieved["status"] == "sending"
    stats = retrieved["stats"]
    assert {key: stats[key] for key in ("recipients", "queued", "waiting_quiet_hours", "sent")} == {
        "recipients": 1, "queued": 1, "waiting_quiet_hours": 1, "sent": 0,
    }  # fmt: skip


def test_launching_with_a_future_send_at_schedules_and_sends_nothing_yet(audience, owner, fake_telnyx):
    send_at = DAYTIME + timedelta(days=2)
    created = _draft(audience, owner, send_at=send_at.isoformat())

    response = _launch(owner, created["id"])

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "scheduled"
    campaign = Campaign.objects.get(pk=created["id"])
    assert (campaign.status, campaign.send_at, campaign.launched_at) == ("scheduled", send_at, None)
    assert not campaign.messages.exists()
    assert fake_telnyx.messages() == []


def test_a_campaign_is_launched_only_once(audience, owner, fake_telnyx):
    created = _draft(audience, owner)
    assert _launch(owner, created["id"]).status_code == 202

    again = _launch(owner, created["id"])

    error = _error(again, "status")
    assert "Only a draft can be launched" in error
    assert len(fake_telnyx.messages()) == 2
    assert Message.objects.filter(campaign_id=created["id"]).count() == 2


def test_a_scheduled_campaign_is_cancelled(tenant_a, owner):
    created = _draft(tenant_a, owner, send_at=LATER)
    assert owner.post(f"{CAMPAIGNS}{created['id']}/launch/").status_code == 202

    response = owner.post(f"{CAMPAIGNS}{created['id']}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert "stats" in response.json()
    assert Campaign.objects.get(pk=created["id"]).status == Campaign.Status.CANCELLED


def test_cancelling_stops_the_messages_waiting_for_the_morning(time_machine, tenant_a, fake_telnyx):
    time_machine.move_to(NIGHT)
    _join(tenant_a)
    fake_telnyx.reset()
    client = api_client(tenant_a.owner)
    created = _draft(tenant_a, client)
    assert _launch(client, created["id"]).status_code == 202

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"{CAMPAIGNS}{created['id']}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert (response.json()["stats"]["queued"], response.json()["stats"]["recipients"]) == (0, 1)
    assert list(Message.objects.filter(campaign_id=created["id"]).values_list("status", flat=True)) == ["cancelled"]
    time_machine.move_to(DAYTIME + timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        messaging_services.messages_dispatch_due()
    assert fake_telnyx.messages() == []


def test_cancelling_a_sent_campaign_is_refused(audience, owner):
    created = _draft(audience, owner)
    _launch(owner, created["id"])
    assert Campaign.objects.get(pk=created["id"]).status == Campaign.Status.SENT

    response = owner.post(f"{CAMPAIGNS}{created['id']}/cancel/")

    assert "A sent campaign cannot be cancelled" in _error(response, "status")
    assert Campaign.objects.get(pk=created["id"]).status == Campaign.Status.SENT


# --- messages: reading ----------------------------------------------------------------------------------------------


def test_messages_show_direction_kind_status_body_and_sender_number(tenant_a, owner):
    _join(tenant_a)

    items = owner.get(MESSAGES).json()["results"]

    shown = {(m["direction"], m["kind"], m["phone_number"], m["sender_number"]) for m in items}
    assert shown == {
        ("inbound", "inbound_command", NEW_YORK, tenant_a.number.phone_number),
        ("outbound", "opt_in_confirmation", NEW_YORK, tenant_a.number.phone_number),
    }
    inbound = next(m for m in items if m["direction"] == "inbound")
    assert (inbound["body"], inbound["status"]) == ("JOIN", "received")
    reply = next(m for m in items if m["direction"] == "outbound")
    assert reply["status"] == "sent" and "STOP" in reply["body"]


def test_a_message_is_retrieved_by_id(tenant_a, owner):
    _join(tenant_a)
    inbound = Message.objects.get(business=tenant_a.business, direction="inbound")

    response = owner.get(f"{MESSAGES}{inbound.pk}/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["body"]) == (inbound.pk, "JOIN")


@pytest.mark.parametrize("phone", [NEW_YORK, "(212) 555-0143", "212.555.0143", "1 212 555 0143"])
def test_messages_are_filtered_by_phone_number_in_any_common_format(tenant_a, owner, phone):
    _join(tenant_a, NEW_YORK)
    _join(tenant_a, NEW_YORK_2)
    own = set(Message.objects.filter(phone_number=NEW_YORK).values_list("pk", flat=True))

    listed = _ids(owner.get(MESSAGES, {"phone_number": phone}))

    assert len(own) == 2 and listed == own


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+1212555014"])
def test_an_invalid_phone_number_filter_is_refused(tenant_a, owner, phone):
    assert "phone_number" in _error(owner.get(MESSAGES, {"phone_number": phone}), "phone_number")


def test_messages_are_filtered_by_campaign(audience, owner):
    created = _draft(audience, owner)
    _launch(owner, created["id"])
    campaign_messages = set(Message.objects.filter(campaign_id=created["id"]).values_list("pk", flat=True))

    listed = _ids(owner.get(MESSAGES, {"campaign": created["id"]}))

    assert len(campaign_messages) == 2 and listed == campaign_messages
    assert _ids(owner.get(MESSAGES, {"campaign": MISSING_ID})) == set()
    assert _ids(owner.get(MESSAGES, {"campaign": "9" * 30})) == set()  # beyond any id column: nothing, not a 500


@pytest.mark.parametrize("campaign", ["abc", "1.5", "-1", "", "²"])
def test_a_campaign_filter_that_is_not_an_id_is_refused(tenant_a, owner, campaign):
    assert "integer" in _error(owner.get(MESSAGES, {"campaign": campaign}), "campaign")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"direction": "inbound"}, {("inbound", "received")}),
        ({"direction": "outbound"}, {("outbound", "sent")}),
        ({"status": "received"}, {("inbound", "received")}),
        ({"status": "sent"}, {("outbound", "sent")}),
        ({"status": "delivered"}, set()),
    ],
)
def test_messages_are_filtered_by_direction_and_status(tenant_a, owner, params, expected):
    _join(tenant_a)

    items = owner.get(MESSAGES, params).json()["results"]

    assert {(m["direction"], m["status"]) for m in items} == expected


@pytest.mark.parametrize(("param", "value"), [("direction", "sideways"), ("status", "lost"), ("status", "SENT")])
def test_an_unknown_direction_or_status_filter_is_refused(tenant_a, owner, param, value):
    error = _error(owner.get(MESSAGES, {param: value}), param)

    assert f"'{value}'" in error


# --- messages: transactional sends ----------------------------------------------------------------------------------


def test_a_transactional_message_to_a_subscriber_reaches_telnyx(tenant_a, owner, fake_telnyx):
    _join(tenant_a)
    fake_telnyx.reset()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner.post(MESSAGES, {"to": "(212) 555-0143", "body": "Your order is ready"}, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["direction"], created["kind"], created["phone_number"], created["sender_number"]) == (
        "outbound", "transactional", NEW_YORK, tenant_a.number.phone_number
    )  # fmt: skip
    assert [(m["from"], m["to"], m["text"]) for m in fake_telnyx.messages()] == [
        (tenant_a.number.phone_number, NEW_YORK, "Your order is ready")
    ]
    assert Message.objects.get(pk=created["id"]).status == Message.Status.SENT


def test_a_transactional_message_goes_out_from_the_number_asked_for(tenant_a, owner, fake_telnyx):
    _join(tenant_a)
    other = SenderNumberFactory(business=tenant_a.business)
    fake_telnyx.reset()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner.post(MESSAGES, {"to": NEW_YORK, "body": "Table ready", "number": other.pk}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["sender_number"] == other.phone_number
    assert [m["from"] for m in fake_telnyx.messages()] == [other.phone_number]


@pytest.mark.parametrize(("phone", "why"), [(STRANGER, "not subscribed"), (STOPPED, "suppressed")])
def test_a_number_that_did_not_opt_in_cannot_be_texted(tenant_a, owner, fake_telnyx, phone, why):
    _join(tenant_a, STOPPED)
    _stop(tenant_a, STOPPED)
    fake_telnyx.reset()
    before = Message.objects.count()

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        response = owner.post(MESSAGES, {"to": phone, "body": "Your order is ready"}, format="json")

    error = _error(response, "to")
    assert "cannot be texted" in error and why in error and "opted in" in error
    assert Message.objects.count() == before
    assert callbacks == []
    assert fake_telnyx.messages() == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": "12345"}, "to"),
        ({"to": "not a phone"}, "to"),
        ({"to": ""}, "to"),
        ({"body": ""}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"number": "first"}, "number"),
    ],
)
def test_an_invalid_transactional_message_is_refused(tenant_a, owner, fake_telnyx, fields, field):
    _join(tenant_a)
    fake_telnyx.reset()
    before = Message.objects.count()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner.post(MESSAGES, {"to": NEW_YORK, "body": "Your order is ready", **fields}, format="json")

    assert field in _error(response, field)
    assert Message.objects.count() == before
    assert fake_telnyx.messages() == []


def test_a_transactional_message_cannot_go_out_from_another_business_number(tenant_a, tenant_b, owner, fake_telnyx):
    _join(tenant_a)
    fake_telnyx.reset()
    before = Message.objects.count()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner.post(
            MESSAGES, {"to": NEW_YORK, "body": "Your order is ready", "number": tenant_b.number.pk}, format="json"
        )

    assert "No number with id" in _error(response, "number")
    assert tenant_b.number.phone_number not in response.content.decode()
    assert Message.objects.count() == before
    assert fake_telnyx.messages() == []


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_messages_cannot_be_changed_or_deleted(tenant_a, role, method):
    _join(tenant_a)
    message = Message.objects.filter(business=tenant_a.business).first()
    before = _snapshot(message)

    response = getattr(api_client(getattr(tenant_a, role)), method)(
        f"{MESSAGES}{message.pk}/", {"body": "rewritten", "status": "delivered"}, format="json"
    )

    assert response.status_code == 405, response.content
    assert response.json()["error"]
    assert _snapshot(message) == before


# --- tenancy --------------------------------------------------------------------------------------------------------


@pytest.fixture
def a_campaign(audience, owner):
    """Business A's campaign, launched and sent; A's messages include its two sends."""
    created = _draft(audience, owner)
    assert _launch(owner, created["id"]).status_code == 202
    return Campaign.objects.get(pk=created["id"])


CAMPAIGN_ACTIONS = [
    ("get", "", None),
    ("patch", "", {"body": "B was here"}),
    ("put", "", {"name": "B", "body": "B was here"}),
    ("delete", "", None),
    ("post", "launch/", None),
    ("post", "cancel/", None),
]


@pytest.mark.parametrize("draft", [True, False], ids=["draft", "sent"])
@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize(("method", "suffix", "body"), CAMPAIGN_ACTIONS)
def test_another_business_campaign_is_not_found_and_left_untouched(
    audience, tenant_b, owner, fake_telnyx, draft, role, method, suffix, body
):
    created = _draft(audience, owner)
    if not draft:
        _launch(owner, created["id"])
    campaign = Campaign.objects.get(pk=created["id"])
    before, sent_before = _snapshot(campaign), len(fake_telnyx.messages())
    if body is not None:
        body = {**body, "number": tenant_b.number.pk}
    client = api_client(getattr(tenant_b, role))

    with TestCase.captureOnCommitCallbacks(execute=True):
        for_a = getattr(client, method)(f"{CAMPAIGNS}{campaign.pk}/{suffix}", body, format="json")
        for_missing = getattr(client, method)(f"{CAMPAIGNS}{MISSING_ID}/{suffix}", body, format="json")

    # A member's write is refused for its role before any lookup: the same answer for A's campaign as for none.
    expected = 403 if role == "member" and method != "get" else 404
    assert for_a.status_code == expected, for_a.content
    assert for_a.json() == for_missing.json()
    assert _snapshot(campaign) == before
    assert len(fake_telnyx.messages()) == sent_before


def test_another_business_message_is_not_found(a_campaign, tenant_b):
    client = api_client(tenant_b.member)
    message = a_campaign.messages.first()

    for_a = client.get(f"{MESSAGES}{message.pk}/")
    for_missing = client.get(f"{MESSAGES}{MISSING_ID}/")

    assert for_a.status_code == 404
    assert for_a.json() == for_missing.json()


def test_another_business_campaigns_and_messages_never_appear_in_lists(a_campaign, tenant_a, tenant_b):
    _join(tenant_b, NEW_YORK)  # the same phone, subscribed to B too: B's own, unrelated rows
    b_campaign = _draft(tenant_b)
    client = api_client(tenant_b.owner)

    campaigns = _ids(client.get(CAMPAIGNS, {"page_size": 500}))
    messages = _ids(client.get(MESSAGES, {"page_size": 500}))

    assert campaigns == {b_campaign["id"]}
    b_messages = set(Message.objects.filter(business=tenant_b.business).values_list("pk", flat=True))
    assert b_messages and messages == b_messages
    assert not messages & set(Message.objects.filter(business=tenant_a.business).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "params",
    [
        lambda campaign: {"campaign": campaign.pk},
        lambda campaign: {"phone_number": NEW_YORK_2},
        lambda campaign: {"phone_number": NEW_YORK_2, "campaign": campaign.pk},
    ],
    ids=["campaign", "phone", "phone-and-campaign"],
)
def test_filtering_by_another_business_campaign_or_phone_finds_nothing(a_campaign, tenant_a, tenant_b, params):
    _join(tenant_b, STRANGER)  # B has messages of its own: an empty answer is the filter's doing
    assert _ids(api_client(tenant_b.owner).get(MESSAGES))
    # The filter finds A's own rows, so B's empty answer means something.
    assert _ids(api_client(tenant_a.owner).get(MESSAGES, params(a_campaign)))

    assert _ids(api_client(tenant_b.owner).get(MESSAGES, params(a_campaign))) == set()


def test_another_business_subscriber_cannot_be_texted(tenant_a, tenant_b, owner, fake_telnyx):
    _join(tenant_b, NEW_YORK)
    fake_telnyx.reset()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner.post(MESSAGES, {"to": NEW_YORK, "body": "Your order is ready"}, format="json")

    assert "cannot be texted" in _error(response, "to")
    assert not Message.objects.filter(business=tenant_a.business).exists()
    assert fake_telnyx.messages() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CAMPAIGNS),
        ("post", CAMPAIGNS),
        ("get", "{campaigns}{id}/"),
        ("post", "{campaigns}{id}/launch/"),
        ("post", "{campaigns}{id}/cancel/"),
        ("delete", "{campaigns}{id}/"),
        ("get", MESSAGES),
        ("post", MESSAGES),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Token not-a-real-token"], ids=["no-header", "unknown-token"])
def test_requests_without_a_valid_token_get_401(tenant_a, owner, method, path, authorization):
    campaign = _draft(tenant_a, owner)
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = getattr(client, method)(
        path.format(campaigns=CAMPAIGNS, id=campaign["id"]), {"to": NEW_YORK, "body": "hi"}, format="json"
    )

    assert response.status_code == 401, response.content
    assert response.json()["error"]
    assert Campaign.objects.get(pk=campaign["id"]).status == Campaign.Status.DRAFT
    assert Campaign.objects.count() == 1


# --- roles ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_admins_and_owners_create_edit_and_launch_campaigns(audience, fake_telnyx, role):
    client = api_client(getattr(audience, role))

    created = _draft(audience, client)
    assert client.patch(f"{CAMPAIGNS}{created['id']}/", {"name": "Renamed"}, format="json").status_code == 200
    launched = _launch(client, created["id"])

    assert launched.status_code == 202, launched.content
    assert sorted(m["to"] for m in fake_telnyx.messages()) == [NEW_YORK, NEW_YORK_2]
    assert Campaign.objects.get(pk=created["id"]).status == Campaign.Status.SENT


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_admins_and_owners_cancel_and_delete_campaigns(tenant_a, role):
    client = api_client(getattr(tenant_a, role))
    to_cancel, to_delete = _draft(tenant_a, client), _draft(tenant_a, client)

    assert client.post(f"{CAMPAIGNS}{to_cancel['id']}/cancel/").status_code == 200
    assert client.delete(f"{CAMPAIGNS}{to_delete['id']}/").status_code == 204
    assert list(Campaign.objects.values_list("pk", "status")) == [(to_cancel["id"], "cancelled")]


def test_members_read_campaigns_and_messages_but_do_not_send(tenant_a, fake_telnyx):
    _join(tenant_a)
    fake_telnyx.reset()
    draft = _draft(tenant_a, api_client(tenant_a.admin))
    member = api_client(tenant_a.member)

    assert member.get(CAMPAIGNS).status_code == 200 and member.get(MESSAGES).status_code == 200
    new = {"name": "x", "body": "y", "number": tenant_a.number.pk}
    assert member.post(CAMPAIGNS, new, format="json").status_code == 403
    assert member.patch(f"{CAMPAIGNS}{draft['id']}/", {"name": "Renamed"}, format="json").status_code == 403
    assert member.post(f"{CAMPAIGNS}{draft['id']}/launch/").status_code == 403
    assert member.post(f"{CAMPAIGNS}{draft['id']}/cancel/").status_code == 403
    assert member.delete(f"{CAMPAIGNS}{draft['id']}/").status_code == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = member.post(MESSAGES, {"to": NEW_YORK, "body": "Ready"}, format="json")
    assert response.status_code == 403
    assert fake_telnyx.messages() == []


def test_an_admin_sends_a_transactional_message(tenant_a, fake_telnyx):
    _join(tenant_a)
    fake_telnyx.reset()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client(tenant_a.admin).post(MESSAGES, {"to": NEW_YORK, "body": "Ready"}, format="json")

    assert response.status_code == 201, response.content
    assert [m["text"] for m in fake_telnyx.messages()] == ["Ready"]


def test_the_api_refuses_to_send_a_text_that_breaks_the_sending_rules(tenant_a, owner, fake_telnyx):
    """The same check as the dashboard's: it may be saved as a draft, never sent."""
    created = _draft(tenant_a, owner, body="2 for 1 tonight only!")

    response = _launch(owner, created["id"])

    assert response.status_code == 400
    assert "business name" in str(response.json()) and "STOP" in str(response.json())
    assert Campaign.objects.get(pk=created["id"]).status == Campaign.Status.DRAFT
    assert fake_telnyx.messages() == []
