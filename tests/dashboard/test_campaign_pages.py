"""Campaign pages: the list, composing and launching, the results page and its live figures, roles and tenancy."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from consent.models import Suppression
from consent.services import suppression_add
from messaging.backends import locmem
from messaging.models import Message
from subscribers.models import Subscriber, Tag
from subscribers.services import subscriber_update
from tests.factories import SenderNumberFactory
from tests.helpers import launch_campaign, send_due, text_in
from tracking.models import Click

LIST = reverse("dashboard:campaigns")
CREATE = reverse("dashboard:campaign-create")
MEASURE = reverse("dashboard:campaign-measure")
PHONES = ["+12125550143", "+13105550143", "+12025550143"]  # New York, California, Washington DC
# 17:00 UTC on a winter weekday: 12:00 in New York, 09:00 in California — nobody is in quiet hours.
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
PAGES_WITH_ID = ["campaign", "campaign-stats", "campaign-edit", "campaign-launch", "campaign-cancel", "campaign-delete"]
WRITES_WITH_ID = ["campaign-edit", "campaign-launch", "campaign-cancel", "campaign-delete"]


def subscribe(tenant, phone, tags=()):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=tenant.keyword.keyword)
    subscriber = Subscriber.objects.get(business=tenant.business, phone_number=phone)
    if tags:
        subscriber_update(subscriber=subscriber, tags=list(tags))
    return subscriber


def draft(tenant, name="Pizza night", body="Tony's Pizza: 2 for 1 pizza tonight! Reply STOP to cancel", **fields):
    fields.setdefault("sender_number", tenant.number)
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name=name, body=body, **fields
    )


def url(name, campaign):
    return reverse(f"dashboard:{name}", args=[campaign.pk])


def compose_data(tenant, **overrides):
    data = {
        "name": "Friday deal",
        "body": "Tony's Pizza: 2 for 1 pizza tonight! Reply STOP to cancel",
        "media_urls": "",
        "sender_number": tenant.number.pk,
        "audience": "all",
        "track_links": "on",
        "when": "now",
        "send_at": "",
        "action": "save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def error_of(html, field):
    """The error text shown next to a field, or None."""
    match = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', html)
    return match.group(1) if match else None


def funnel_count(html, kind):
    match = re.search(rf'<tr class="funnel-{kind}">.*?<td class="num">(\d+)</td>', html, re.S)
    assert match, f"no funnel row {kind}"
    return int(match.group(1))


@pytest.fixture
def audience(tenant_a):
    for phone in PHONES:
        subscribe(tenant_a, phone)
    locmem.outbox.clear()
    return tenant_a


# --- The list ---------------------------------------------------------------------------------------------------------


def test_list_shows_campaigns_newest_first_to_a_member_without_the_new_button(client, audience):
    old = draft(audience, name="Old news")
    launch_campaign(old, NOON_NY)
    send_due(NOON_NY)
    draft(audience, name="Brand new")
    client.force_login(audience.member.user)

    response = client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Campaigns</h1>" in html
    assert html.index("Brand new") < html.index("Old news")
    assert "New campaign" not in html
    assert re.search(r'<td class="num">3</td>', html)  # the sent campaign's recipients


def test_list_and_results_agree_on_delivery_clicks_and_opt_outs(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    send_due(NOON_NY)
    first, second = Message.objects.filter(campaign=campaign).order_by("id")[:2]
    Message.objects.filter(pk=first.pk).update(status=Message.Status.DELIVERED)
    Click.objects.create(business=audience.business, campaign=campaign, message=second, url="https://example.com/")
    with time_machine.travel(NOON_NY + timedelta(hours=1), tick=False):
        text_in(from_number=first.phone_number, to_number=audience.number.phone_number, text="STOP")
    client.force_login(audience.member.user)

    row = re.search(r"<tr>\s*<td><a[^>]*>Pizza night</a>.*?</tr>", client.get(LIST).content.decode(), re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == ["3", "33%", "33%", "1"]  # recipients, delivered, clicked, opt-outs

    stats = campaign_stats(campaign=campaign)
    assert (stats["opt_outs"], stats["unique_clickers"], stats["delivered"]) == (1, 1, 1)
    html = client.get(url("campaign", campaign)).content.decode()
    assert re.search(r'Opted out</span><span class="value">1<', html)


def test_list_offers_new_campaign_to_an_admin(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    html = client.get(LIST).content.decode()
    assert CREATE in html


def test_list_shows_another_business_nothing(client, tenant_a, tenant_b):
    draft(tenant_b, name="Open house Sunday")
    client.force_login(tenant_a.owner.user)
    assert "Open house Sunday" not in client.get(LIST).content.decode()


def _launched_campaigns(tenant, count):
    tag, _ = Tag.objects.get_or_create(business=tenant.business, name="vip")
    for index in range(count):
        campaign = draft(tenant, name=f"Campaign {index}", tags=["vip"] if index % 2 else [])
        campaign.status, campaign.launched_at = Campaign.Status.SENT, NOON_NY
        campaign.save()
        Message.objects.create(
            business=tenant.business, direction="outbound", kind="marketing", sender_number=tenant.number,
            phone_number=PHONES[0], phone_hash=f"h{index}", body="x", status="delivered", campaign=campaign,
        )  # fmt: skip


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_campaigns(client, tenant_a):
    subscribe(tenant_a, PHONES[0], tags=["vip"])
    client.force_login(tenant_a.member.user)
    _launched_campaigns(tenant_a, 3)
    few = _queries(client, LIST)
    _launched_campaigns(tenant_a, 27)
    many = _queries(client, LIST)
    assert few == many


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999", "1" * 40, "%00"])
def test_list_survives_any_page_number(client, tenant_a, page):
    draft(tenant_a)
    client.force_login(tenant_a.member.user)
    assert client.get(LIST, {"page": page}).status_code == 200


# --- Roles and tenancy ------------------------------------------------------------------------------------------------


def test_a_member_reads_the_results_page_and_its_figures_but_gets_no_buttons(client, tenant_a):
    campaign = draft(tenant_a)
    client.force_login(tenant_a.member.user)
    response = client.get(url("campaign", campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{campaign.name}</h1>" in html
    assert url("campaign-edit", campaign) not in html
    assert client.get(url("campaign-stats", campaign)).status_code == 200


def test_a_member_cannot_compose(client, tenant_a):
    client.force_login(tenant_a.member.user)
    response = client.get(CREATE)
    assert response.status_code == 403
    assert "Admin" in response.content.decode()


@pytest.mark.parametrize("name", WRITES_WITH_ID)
def test_a_member_posting_a_change_is_refused(client, tenant_a, name):
    campaign = draft(tenant_a)
    client.force_login(tenant_a.member.user)
    response = client.post(url(name, campaign), compose_data(tenant_a, action="launch"))
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.name == "Pizza night"


def test_a_member_cannot_create_or_measure(client, tenant_a):
    client.force_login(tenant_a.member.user)
    assert client.post(CREATE, compose_data(tenant_a)).status_code == 403
    assert client.post(MEASURE, {"body": "hi"}).status_code == 403
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("name", PAGES_WITH_ID)
def test_another_business_campaign_is_not_found(client, tenant_a, tenant_b, name):
    theirs = draft(tenant_b)
    client.force_login(tenant_a.owner.user)
    assert client.get(url(name, theirs)).status_code == 404


@pytest.mark.parametrize("name", WRITES_WITH_ID)
def test_another_business_campaign_cannot_be_changed(client, tenant_a, tenant_b, name):
    theirs = draft(tenant_b)
    client.force_login(tenant_a.owner.user)
    assert client.post(url(name, theirs), compose_data(tenant_a, action="launch")).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.name) == (Campaign.Status.DRAFT, "Pizza night")


@pytest.mark.parametrize("path", ["/app/campaigns/99999999999999999999999/", "/app/campaigns/0/stats/"])
def test_ids_that_cannot_exist_are_not_found(client, tenant_a, path):
    client.force_login(tenant_a.owner.user)
    assert client.get(path).status_code == 404


# --- Composing --------------------------------------------------------------------------------------------------------


def test_the_compose_form_lists_only_this_business_numbers_and_tags(client, tenant_a, tenant_b):
    subscribe(tenant_a, PHONES[0], tags=["vip"])
    subscribe(tenant_b, PHONES[1], tags=["buyers"])
    client.force_login(tenant_a.admin.user)
    html = client.get(CREATE).content.decode()
    assert f'value="{tenant_a.number.pk}"' in html
    assert f"(415) 555-{tenant_a.number.phone_number[-4:]}</option>" in html  # the number as people read it
    assert f"(415) 555-{tenant_b.number.phone_number[-4:]}" not in html
    assert "vip" in html and "buyers" not in html
    assert '<label for="id_body">Message</label>' in html
    assert 'id="compose-counter"' in html


def test_saving_makes_a_draft_and_sends_nothing(client, audience):
    client.force_login(audience.admin.user)
    response = client.post(CREATE, compose_data(audience, body="Line one\r\nLine two"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("campaign", campaign)
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.body == "Line one\nLine two"
    assert campaign.created_by == audience.admin.user
    assert not Message.objects.filter(campaign__isnull=False).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"body": ""}, "body", "Write the message text."),
        ({"body": "   "}, "body", "Write the message text."),
        ({"body": "x" * 1700}, "body", "the limit is 1600"),
        ({"name": ""}, "name", "Give the campaign a name"),
        ({"name": "n" * 500}, "name", "120 characters"),
        ({"media_urls": "ftp://example.com/a.png"}, "media_urls", "not a public http(s) URL"),
        ({"sender_number": ""}, "sender_number", "Choose the number to send from."),
        ({"sender_number": "abc"}, "sender_number", "Choose one of your own numbers."),
        ({"sender_number": "99999999999999999999999"}, "sender_number", "Choose one of your own numbers."),
        ({"audience": "tags"}, "tags", "Choose at least one tag"),
        ({"audience": "tags", "tags": "987654"}, "tags", "no longer exists"),
        ({"audience": "tags", "tags": "abc"}, "tags", "no longer exists"),
        ({"audience": "somebody"}, "audience", "Choose who gets the message."),
        ({"when": "later", "send_at": ""}, "send_at", "Choose the date and time"),
        ({"when": "later", "send_at": "2020-01-01T10:00"}, "send_at", "already passed"),
        ({"when": "later", "send_at": "not a date"}, "send_at", "Enter a date and time"),
        ({"when": "yesterday"}, "when", "Choose when to send."),
    ],
)
def test_bad_input_is_explained_next_to_its_field(client, tenant_a, overrides, field, words):
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, compose_data(tenant_a, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    if field in ("audience", "when"):
        assert words in html
    else:
        assert words in (error_of(html, field) or ""), html[:0]
    assert not Campaign.objects.exists()


def test_a_number_of_another_business_is_refused_next_to_the_field(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, compose_data(tenant_a, sender_number=tenant_b.number.pk, action="launch"))
    assert response.status_code == 400
    assert error_of(response.content.decode(), "sender_number") == "Choose one of your own numbers."
    assert not Campaign.objects.exists()


def test_a_tag_of_another_business_is_refused(client, tenant_a, tenant_b):
    subscribe(tenant_b, PHONES[1], tags=["buyers"])
    client.force_login(tenant_a.admin.user)
    tag = Tag.objects.get(business=tenant_b.business)
    response = client.post(CREATE, compose_data(tenant_a, audience="tags", tags=tag.pk))
    assert response.status_code == 400
    assert "no longer exists" in error_of(response.content.decode(), "tags")


def test_scheduling_reads_the_time_in_the_business_time_zone(client, tenant_a):
    tenant_a.business.time_zone = "America/Los_Angeles"
    tenant_a.business.save()
    client.force_login(tenant_a.admin.user)
    with TestCase.captureOnCommitCallbacks(execute=False):
        response = client.post(
            CREATE, compose_data(tenant_a, when="later", send_at="2030-06-01T18:30", action="launch")
        )
        campaign = Campaign.objects.get()
        assert response["Location"] == url("campaign-launch", campaign)
        assert "Saturday, Jun 1, 2030 6:30 PM PDT" in client.get(url("campaign-launch", campaign)).content.decode()
        client.post(url("campaign-launch", campaign))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.send_at == datetime(2030, 6, 2, 1, 30, tzinfo=UTC)  # 18:30 PDT
    assert not Message.objects.filter(campaign__isnull=False).exists()
    html = client.get(url("campaign", campaign)).content.decode()
    assert "6:30 PM" in html and "PDT" in html


def test_a_tag_audience_is_saved_by_tag(client, tenant_a):
    subscribe(tenant_a, PHONES[0], tags=["vip", "pizza"])
    client.force_login(tenant_a.admin.user)
    vip = Tag.objects.get(business=tenant_a.business, name="vip")
    client.post(CREATE, compose_data(tenant_a, audience="tags", tags=vip.pk))
    assert [t.name for t in Campaign.objects.get().tags.all()] == ["vip"]


def test_a_copy_starts_from_the_original(client, tenant_a, tenant_b):
    mine = draft(tenant_a, name="Summer sale")
    theirs = draft(tenant_b, name="Their secret")
    client.force_login(tenant_a.admin.user)
    assert "Summer sale (copy)" in client.get(CREATE, {"copy": mine.pk}).content.decode()
    for raw in (theirs.pk, "abc", "9" * 40, ""):
        response = client.get(CREATE, {"copy": raw})
        assert response.status_code == 200
        assert "Their secret" not in response.content.decode()


def test_editing_a_draft_changes_it(client, tenant_a):
    campaign = draft(tenant_a)
    client.force_login(tenant_a.admin.user)
    page = client.get(url("campaign-edit", campaign)).content.decode()
    assert "Tony&#x27;s Pizza: 2 for 1 pizza tonight!" in page
    response = client.post(url("campaign-edit", campaign), compose_data(tenant_a, name="Renamed", body="New text"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.body, campaign.status) == ("Renamed", "New text", Campaign.Status.DRAFT)


def test_a_campaign_that_went_out_cannot_be_edited(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    client.force_login(audience.admin.user)
    response = client.post(url("campaign-edit", campaign), compose_data(audience, name="Renamed"), follow=True)
    assert "can no longer be changed" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Pizza night"


def test_garbage_never_breaks_the_compose_form(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    nasty = {
        "name": "\x00" * 10 + "z" * 10_000,
        "body": "😀" * 50_000,
        "media_urls": "\n".join(["https://example.com/x.png"] * 50),
        "sender_number": "-1",
        "audience": ["all", "tags"],
        "tags": ["1e9", "-5", "", "x" * 100],
        "track_links": "maybe",
        "when": "later",
        "send_at": "9999-99-99T99:99",
        "action": "launch",
    }
    assert client.post(CREATE, nasty).status_code == 400
    assert client.post(CREATE, {}).status_code == 400
    assert not Campaign.objects.exists()


# --- Measuring as you type --------------------------------------------------------------------------------------------


def measure(client, body, **extra):
    response = client.post(MEASURE, {"body": body, "audience": "all", **extra})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "because"),
    [
        ("Hello pizza lovers", "GSM-7", 1, []),
        ("x" * 160, "GSM-7", 1, []),
        ("x" * 161, "GSM-7", 2, []),
        ("€" * 80, "GSM-7", 1, []),  # an extension character costs two
        ("€" * 81, "GSM-7", 2, []),
        ("Café crème", "GSM-7", 1, []),  # é and è are in the GSM alphabet
        ("Olá amigos", "UCS-2", 1, ["á"]),
        ("á" * 70, "UCS-2", 1, ["á"]),
        ("á" * 71, "UCS-2", 2, ["á"]),
        ("Pizza 🍕", "UCS-2", 1, ["🍕"]),
        ("🍕" * 35, "UCS-2", 1, ["🍕"]),  # an emoji is two UTF-16 units
        ("🍕" * 36, "UCS-2", 2, ["🍕"]),
        ("", "GSM-7", 0, []),
    ],
)
def test_measure_counts_segments_like_the_carrier(client, tenant_a, body, encoding, segments, because):
    client.force_login(tenant_a.admin.user)
    data = measure(client, body)
    assert (data["encoding"], data["segments"], data["non_gsm_characters"]) == (encoding, segments, because)
    assert data["characters"] == len(body)
    if because:
        assert f"UCS-2 because of '{because[0]}'" in data["display"]


def test_measure_counts_links_as_the_short_links_recipients_get(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    body = "Menu: https://example.com/" + "a" * 200
    tracked, plain = measure(client, body, track_links="on"), measure(client, body)
    assert tracked["segments"] < plain["segments"]
    assert tracked["note"]


def test_measure_with_a_picture_is_one_mms(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    data = measure(client, "x" * 500, media_urls="https://example.com/p.png")
    assert (data["mms"], data["segments"]) == (True, 1)


def test_audience_size_leaves_out_the_do_not_text_list_and_follows_the_tags(client, tenant_a, tenant_b):
    subscribe(tenant_a, PHONES[0], tags=["vip"])
    subscribe(tenant_a, PHONES[1], tags=["vip"])
    subscribe(tenant_a, PHONES[2])
    subscribe(tenant_b, "+12025550199", tags=["vip"])
    client.force_login(tenant_a.admin.user)
    vip = Tag.objects.get(business=tenant_a.business, name="vip")
    other_vip = Tag.objects.get(business=tenant_b.business, name="vip")

    assert measure(client, "hi")["audience_size"] == 3
    assert measure(client, "hi", audience="tags", tags=[vip.pk])["audience_size"] == 2
    suppression_add(business=tenant_a.business, phone=PHONES[0], reason=Suppression.Reason.CARRIER)
    assert measure(client, "hi")["audience_size"] == 2
    assert measure(client, "hi", audience="tags", tags=[vip.pk])["audience_size"] == 1
    assert measure(client, "hi", audience="tags", tags=[other_vip.pk])["audience_size"] == 0
    assert measure(client, "hi", audience="tags")["audience_size"] == 0


def test_measure_survives_garbage(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    data = measure(client, "\x00\ud7ff" * 100_000, audience="tags", tags=["abc", "9" * 50, "-1", "1.5"] * 50)
    assert data["audience_size"] == 0
    assert client.post(MEASURE, {}).status_code == 200
    assert client.post(MEASURE, {"tags": ["1"] * 5000}).status_code == 400  # Django's own limit on fields
    assert client.get(MEASURE).status_code == 405


# --- Launching, results and live figures ------------------------------------------------------------------------------


def test_send_now_through_the_page_texts_every_subscriber_once_confirmed(client, audience):
    client.force_login(audience.admin.user)
    with time_machine.travel(NOON_NY, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(CREATE, compose_data(audience, action="launch"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == url("campaign-launch", campaign)
    assert campaign.status == Campaign.Status.DRAFT  # saved, and nothing sent before the summary is confirmed
    assert not Message.objects.filter(campaign=campaign).exists()
    with time_machine.travel(NOON_NY, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url("campaign-launch", campaign))
    assert response.status_code == 302
    assert Message.objects.filter(campaign=campaign).count() == 3
    send_due(NOON_NY)
    assert sorted(sms.to_number for sms in locmem.outbox) == sorted(PHONES)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_saved_draft_is_sent_from_its_page(client, audience):
    campaign = draft(audience)
    client.force_login(audience.admin.user)
    with time_machine.travel(NOON_NY, tick=False):
        confirm = client.get(url("campaign-launch", campaign))
    assert "<strong>3</strong> people" in confirm.content.decode()
    with time_machine.travel(NOON_NY, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url("campaign-launch", campaign))
    assert response.status_code == 302
    send_due(NOON_NY)
    assert len(locmem.outbox) == 3


def test_launching_twice_is_refused_with_a_message(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    client.force_login(audience.admin.user)
    response = client.post(url("campaign-launch", campaign), follow=True)
    assert "Only a draft can be launched" in response.content.decode()


def test_results_page_shows_the_funnel(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    send_due(NOON_NY)
    first = Message.objects.filter(campaign=campaign).order_by("id").first()
    Message.objects.filter(pk=first.pk).update(status=Message.Status.DELIVERED)
    client.force_login(audience.member.user)

    html = client.get(url("campaign", campaign)).content.decode()

    assert funnel_count(html, "sent") == 3
    assert funnel_count(html, "delivered") == 1
    assert funnel_count(html, "failed") == 0
    assert funnel_count(html, "queued") == 0
    assert "Results" in html


def test_results_page_counts_those_waiting_for_quiet_hours(client, audience):
    night = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)  # 01:00 in New York
    campaign = launch_campaign(draft(audience), night)
    client.force_login(audience.member.user)
    with time_machine.travel(night + timedelta(minutes=5), tick=False):
        html = client.get(url("campaign", campaign)).content.decode()
    assert "3</strong> texts wait for quiet hours to end" in html
    assert funnel_count(html, "queued") == 3


def test_the_live_figures_refresh_while_sending_and_stop_when_sent(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    client.force_login(audience.member.user)
    stats_url = url("campaign-stats", campaign)

    live = client.get(stats_url).content.decode()
    assert f'data-refresh-url="{stats_url}"' in live
    assert live.lstrip().startswith("<section")  # the fragment's root element carries the attribute
    assert f'data-refresh-url="{stats_url}"' in client.get(url("campaign", campaign)).content.decode()

    send_due(NOON_NY)
    done = client.get(stats_url).content.decode()
    assert "data-refresh-url" not in done
    assert funnel_count(done, "sent") == 3


def test_a_draft_page_does_not_refresh(client, tenant_a):
    campaign = draft(tenant_a)
    client.force_login(tenant_a.member.user)
    assert "data-refresh-url" not in client.get(url("campaign", campaign)).content.decode()


def test_cancel_stops_what_has_not_gone_out(client, audience):
    night = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)
    campaign = launch_campaign(draft(audience), night)
    client.force_login(audience.admin.user)
    assert url("campaign-cancel", campaign) in client.get(url("campaign", campaign)).content.decode()
    assert client.get(url("campaign-cancel", campaign)).status_code == 200

    response = client.post(url("campaign-cancel", campaign), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    assert Message.objects.filter(campaign=campaign, status=Message.Status.CANCELLED).count() == 3
    html = response.content.decode()
    assert "is cancelled" in html
    assert funnel_count(html, "cancelled") == 3
    assert "data-refresh-url" not in html


def test_cancelling_a_sent_campaign_is_refused_with_a_message(client, audience):
    campaign = launch_campaign(draft(audience), NOON_NY)
    send_due(NOON_NY)
    client.force_login(audience.admin.user)
    response = client.post(url("campaign-cancel", campaign), follow=True)
    assert "cannot be cancelled" in response.content.decode()


def test_a_draft_can_be_deleted_and_a_sent_campaign_cannot(client, audience):
    doomed = draft(audience, name="Typo")
    client.force_login(audience.admin.user)
    assert client.get(url("campaign-delete", doomed)).status_code == 200
    assert client.post(url("campaign-delete", doomed)).status_code == 302
    assert not Campaign.objects.filter(pk=doomed.pk).exists()

    sent = launch_campaign(draft(audience), NOON_NY)
    response = client.post(url("campaign-delete", sent), follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    assert Campaign.objects.filter(pk=sent.pk).exists()


def test_a_campaign_whose_number_was_removed_says_so(client, tenant_a):
    number = SenderNumberFactory(business=tenant_a.business)
    campaign = draft(tenant_a, sender_number=number)
    number.delete()
    client.force_login(tenant_a.member.user)
    assert "No number (it was removed)" in client.get(url("campaign", campaign)).content.decode()
