"""Tracked links: every URL of a campaign body becomes a short per-recipient link at send time, through the real telnyx
SDK to the fake Telnyx server; following it records a click and redirects to the original URL; link previews are
flagged, forged codes are 404s, and the message history and campaign stats show the clicks.

A code is the message id in base 62, one character for the link's position and a 5-character keyed tag: 7 characters
for the first 61 messages, 11 up to message 916 million (62**5), 12 up to 56 billion (62**6).
"""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.selectors import campaign_measurement, campaign_stats
from messaging import segments
from messaging import services as messaging_services
from messaging.models import Message
from tests.helpers import api_client, launch_campaign, send_due, text_in
from tracking import links
from tracking.models import Click

BASE = "https://nx.example"
LINK = re.compile(re.escape(BASE) + r"/t/([0-9A-Za-z]+)")
MENU, ORDER = "https://tonys.example/menu?day=fri", "https://tonys.example/order"
# Two URLs, the second ending the sentence: the period is punctuation, not part of the URL.
BODY = f"Pizza night! Menu: {MENU} and order at {ORDER}."
NEW_YORK, CALIFORNIA = "+12125550143", "+13105550143"
# 18:00 UTC on a winter weekday: 13:00 in New York, 10:00 in California; marketing may go out to both.
DAYTIME = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)
MESSAGES = "/api/v1/messages/"

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
PREVIEWERS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    # iMessage draws its link previews with this one.
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 "
    "Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
]


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def daytime(time_machine):
    time_machine.move_to(DAYTIME)


@pytest.fixture
def audience(daytime, tenant_a, fake_telnyx):
    for phone in (NEW_YORK, CALIFORNIA):
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="JOIN")
    fake_telnyx.reset()
    return tenant_a


def _campaign(tenant, body=BODY, **fields):
    return services.campaign_create(
        business=tenant.business, created_by=tenant.owner.user, name="Links", body=body,
        sender_number=tenant.number, **fields,
    )  # fmt: skip


def _launch(campaign, now=DAYTIME):
    return launch_campaign(campaign, now)


def _send_due(now=DAYTIME):
    send_due(now)


def _texts(fake):
    """What each recipient received, by phone (the last request per phone)."""
    return {m["to"]: m["text"] for m in fake.messages()}


@pytest.fixture
def sent(audience, fake_telnyx):
    """The BODY campaign, sent to New York and California."""
    campaign = _launch(_campaign(audience))
    _send_due()
    return campaign


def _path(text, index):
    """The path of the index-th tracked link in a text: /t/<code>."""
    return urlsplit(list(LINK.finditer(text))[index][0]).path


def _message(campaign, phone):
    return campaign.messages.get(phone_number=phone)


def _follow(message, index, user_agent=IPHONE, method="get", **extra):
    return getattr(Client(), method)(f"/t/{links.link_code(message.pk, index)}", HTTP_USER_AGENT=user_agent, **extra)


# --- rewriting at send time ---------------------------------------------------------------------------------------


def test_each_recipient_gets_their_own_short_links_and_the_punctuation_stays(sent, fake_telnyx):
    texts = _texts(fake_telnyx)
    assert sorted(texts) == sorted([NEW_YORK, CALIFORNIA])
    codes = {}
    for phone, text in texts.items():
        assert "tonys.example" not in text
        assert LINK.sub("<link>", text) == "Pizza night! Menu: <link> and order at <link>."
        codes[phone] = LINK.findall(text)
        message = _message(sent, phone)
        assert [links.parse_code(code) for code in codes[phone]] == [(message.pk, 0), (message.pk, 1)]
        assert message.body == text  # the history shows what the recipient got
    assert len(set(codes[NEW_YORK]) | set(codes[CALIFORNIA])) == 4


def test_a_campaign_without_tracking_is_sent_unchanged(audience, fake_telnyx):
    campaign = _launch(_campaign(audience, track_links=False))
    _send_due()
    assert _texts(fake_telnyx) == {NEW_YORK: BODY, CALIFORNIA: BODY}
    assert set(campaign.messages.values_list("body", flat=True)) == {BODY}


def test_a_retried_send_carries_the_same_links(audience, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", to=NEW_YORK, retry_after=1)
    campaign = _launch(_campaign(audience))
    _send_due()
    assert _message(campaign, NEW_YORK).status == Message.Status.QUEUED  # refused, to be retried
    _send_due(DAYTIME + timedelta(minutes=1))

    attempts = [m["text"] for m in fake_telnyx.messages() if m["to"] == NEW_YORK]
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    message = _message(campaign, NEW_YORK)
    assert (message.status, message.attempts, message.body) == (Message.Status.SENT, 2, attempts[0])


def test_the_billed_measurement_is_of_the_tracked_body(audience, fake_telnyx):
    short_url = "https://x.io/a"
    body = ("Fresh pizza tonight. " * 7)[:135] + " " + short_url
    assert (len(body), segments.measure(body).segments) == (150, 1)  # fits one segment as written
    campaign = _campaign(audience, body=body)
    assert campaign_measurement(campaign=campaign).segments == 2
    detail = api_client(audience.owner).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert detail["measurement"]["segments"] == 2

    _launch(campaign)
    _send_due()
    for text in _texts(fake_telnyx).values():
        assert short_url not in text and len(text) > 160
        assert segments.measure(text).segments == 2  # what the carrier bills, as estimated
    stats = campaign_stats(campaign=campaign)
    assert (stats["segments_per_message"], stats["segments"]) == (2, 4)

    untracked = _campaign(audience, body=body, track_links=False)
    assert campaign_measurement(campaign=untracked).segments == 1


@pytest.mark.parametrize(
    ("body", "urls"),
    [
        (BODY, [MENU, ORDER]),
        ("Deal at https://x.io/deal! Or (https://x.io/b), https://x.io/c; done",
         ["https://x.io/deal", "https://x.io/b", "https://x.io/c"]),
        ('Quoted "https://x.io/q" and HTTPS://X.IO/UP?', ["https://x.io/q", "HTTPS://X.IO/UP"]),
        ("No links here, just x.io and www.x.io", []),
        # Brackets the URL opened are its own; a bracket around it is not.
        ("See https://en.wikipedia.org/wiki/Pizza_(dish).", ["https://en.wikipedia.org/wiki/Pizza_(dish)"]),
        ("(menu: https://x.io/m_(new))!", ["https://x.io/m_(new)"]),
        ("[https://x.io/a?q[]=1]", ["https://x.io/a?q[]=1"]),
    ],
)  # fmt: skip
def test_urls_are_found_without_the_sentence_punctuation(body, urls):
    assert links.find_urls(body) == urls
    rewritten = links.tracked_body(body, 1234)
    assert [links.parse_code(code) for code in LINK.findall(rewritten)] == [(1234, i) for i in range(len(urls))]


# --- codes --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message_id", "length"),
    [(1, 7), (61, 7), (62, 8), (62**2, 9), (62**5 - 1, 11), (62**5, 12), (62**6 - 1, 12), (2**63 - 1, 17)],
)
def test_codes_are_short_and_parse_back(message_id, length):
    for index in (0, 1, 61):
        code = links.link_code(message_id, index)
        assert len(code) == length and code.isalnum()
        assert links.parse_code(code) == (message_id, index)


# --- following a link ---------------------------------------------------------------------------------------------


def test_a_click_redirects_to_the_original_url_and_is_recorded(sent, django_assert_num_queries):
    message = _message(sent, NEW_YORK)
    with django_assert_num_queries(2):  # the message by primary key, then one INSERT
        response = Client().get(_path(message.body, 1), HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.7")
    assert (response.status_code, response["Location"]) == (302, ORDER)
    assert "no-store" in response["Cache-Control"]
    click = Click.objects.get()
    assert (click.business, click.campaign, click.message, click.url) == (sent.business, sent, message, ORDER)
    assert (click.user_agent, click.ip, click.is_preview) == (IPHONE, "203.0.113.7", False)


def test_the_user_agent_is_truncated_and_a_missing_address_is_no_error(sent):
    response = _follow(_message(sent, NEW_YORK), 0, user_agent="Mozilla/5.0 " + "x" * 600, REMOTE_ADDR="")
    assert (response.status_code, response["Location"]) == (302, MENU)
    click = Click.objects.get()
    assert (len(click.user_agent), click.ip) == (500, None)


@pytest.mark.parametrize("user_agent", PREVIEWERS)
def test_link_previews_get_the_redirect_but_count_as_previews(sent, user_agent):
    response = _follow(_message(sent, NEW_YORK), 0, user_agent=user_agent)
    assert (response.status_code, response["Location"]) == (302, MENU)
    assert Click.objects.get().is_preview is True
    stats = campaign_stats(campaign=sent)
    assert (stats["clicks"], stats["unique_clickers"], stats["previews"]) == (0, 0, 1)


@pytest.mark.parametrize("user_agent", [IPHONE, ANDROID, DESKTOP, ""])
def test_people_are_counted_as_clicks(sent, user_agent):
    assert _follow(_message(sent, CALIFORNIA), 1, user_agent=user_agent).status_code == 302
    stats = campaign_stats(campaign=sent)
    assert (stats["clicks"], stats["unique_clickers"], stats["previews"]) == (1, 1, 0)


def test_a_head_request_redirects_without_recording(sent):
    response = _follow(_message(sent, NEW_YORK), 0, method="head", user_agent=PREVIEWERS[2])
    assert (response.status_code, response["Location"]) == (302, MENU)
    assert not Click.objects.exists()


def test_campaign_stats_count_clicks_unique_clickers_and_the_click_through_rate(sent):
    new_york, california = _message(sent, NEW_YORK), _message(sent, CALIFORNIA)
    _follow(new_york, 0)
    _follow(new_york, 0, user_agent=ANDROID)  # again, from another device
    _follow(new_york, 1)
    _follow(california, 0, user_agent=PREVIEWERS[3])  # California only shared it on WhatsApp
    stats = campaign_stats(campaign=sent)
    assert (stats["sent"], stats["clicks"], stats["unique_clickers"], stats["previews"]) == (2, 3, 1, 1)
    assert stats["click_through_rate"] == 0.5


# --- what is not a link of ours -----------------------------------------------------------------------------------


def _flipped(code, position):
    """`code` with one character replaced by the next one of the alphabet."""
    char = links.ALPHABET[(links.ALPHABET.index(code[position]) + 1) % len(links.ALPHABET)]
    return code[:position] + char + code[position + 1 :]


def _assert_not_found(path):
    for method in ("get", "head"):
        response = getattr(Client(), method)(path, HTTP_USER_AGENT=IPHONE)
        assert response.status_code == 404, (path, response.status_code)
        assert "tracking/link_not_found.html" in [t.name for t in response.templates]
    assert not Click.objects.exists()


def test_every_single_character_change_of_a_real_code_is_not_found(sent):
    code = LINK.findall(_message(sent, NEW_YORK).body)[0]
    for position in range(len(code)):
        _assert_not_found(f"/t/{_flipped(code, position)}")


@pytest.mark.parametrize(
    "code",
    ["abc", "0000000", "ZZZZZZZZZZZZ", "hello-world", "aGVsbG8gd29ybGQ", "%C3%A9%C3%A9%C3%A9%C3%A9", "a" * 5000,
     "1aBcDeF%00"],
)  # fmt: skip
def test_random_strings_are_not_found(sent, code):
    _assert_not_found(f"/t/{code}")


def test_another_message_id_with_the_first_ones_tag_is_not_found(sent):
    new_york, california = _message(sent, NEW_YORK), _message(sent, CALIFORNIA)
    tag = links.link_code(new_york.pk, 0)[-links.TAG_LENGTH :]
    _assert_not_found(f"/t/{links._b62(california.pk)}0{tag}")


def test_genuine_codes_that_lead_nowhere_are_not_found(sent, audience):
    with TestCase.captureOnCommitCallbacks(execute=False):
        transactional = messaging_services.transactional_send(
            business=audience.business, to=NEW_YORK, body="See x.io/a"
        )
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND).first()
    for message_id, index in [
        (_message(sent, NEW_YORK).pk, 2),  # the body has two URLs
        (transactional.pk, 0),  # no campaign
        (inbound.pk, 0),
        (987_654_321, 0),  # no such message
        (2**63, 0),  # beyond any primary key
        (62**11, 0),
    ]:
        _assert_not_found(f"/t/{links.link_code(message_id, index)}")


# --- the message history ------------------------------------------------------------------------------------------


def test_the_message_history_shows_the_links_the_subscriber_clicked(sent, audience, time_machine):
    new_york = _message(sent, NEW_YORK)
    time_machine.move_to(datetime(2026, 1, 14, 18, 30, tzinfo=UTC), tick=False)
    _follow(new_york, 1)
    _follow(new_york, 0, user_agent=PREVIEWERS[0])  # a preview: not the subscriber's click
    time_machine.move_to(datetime(2026, 1, 14, 19, 0, tzinfo=UTC), tick=False)
    _follow(new_york, 0)
    _follow(_message(sent, CALIFORNIA), 0)

    owner = api_client(audience.owner)
    with CaptureQueriesContext(connection) as queries:
        response = owner.get(MESSAGES)
    assert response.status_code == 200, response.content
    assert sum("tracking_click" in q["sql"] for q in queries.captured_queries) == 1  # prefetched, not one per message
    by_id = {m["id"]: m for m in response.json()["results"]}
    expected = [
        {"url": ORDER, "clicked_at": "2026-01-14T18:30:00Z"},
        {"url": MENU, "clicked_at": "2026-01-14T19:00:00Z"},
    ]
    assert by_id[new_york.pk]["clicks"] == expected
    assert by_id[_message(sent, CALIFORNIA).pk]["clicks"] == [{"url": MENU, "clicked_at": "2026-01-14T19:00:00Z"}]
    assert all(m["clicks"] == [] for m in by_id.values() if m["campaign"] is None)
    assert owner.get(f"{MESSAGES}{new_york.pk}/").json()["clicks"] == expected


def test_another_business_cannot_see_the_clicks(sent, tenant_b):
    new_york = _message(sent, NEW_YORK)
    _follow(new_york, 0)
    assert api_client(tenant_b.owner).get(f"{MESSAGES}{new_york.pk}/").status_code == 404
