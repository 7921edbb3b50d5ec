"""Scanning a code: each scan recorded, a phone sent to its messaging app with the opt-in text in the syntax it reads,
anything else shown what to text, a dead code a clear 404 — and the scan-then-text opt-in credited to the code."""

import pytest
from django.test import Client

from accounts.models import Business
from consent.models import ConsentEvent
from subscribers.models import Subscriber
from tests.helpers import api_client, text_in
from tracking import services
from tracking.models import QRCode, Scan
from web.qr import sms_link

from . import decode_modules, svg_modules

CONSUMER = "+12025550143"

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
IPHONE_CHROME = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_INTERNET = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
)
KAIOS = (
    "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0"
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36"
)
FACEBOOK_PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
SLACK_PREVIEW = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
IMESSAGE_PREVIEW = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 "
    "Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

IOS = "sms:{phone}&body=JOIN%20{ref}"
ANDROID = "sms:{phone}?body=JOIN%20{ref}"
PAGE = None  # the HTML page, 200

# (user agent, where it is sent, device type, os, browser) as recorded on the scan.
DEVICES = [
    pytest.param(IPHONE_SAFARI, IOS, "mobile", "iOS", "Mobile Safari", id="iphone-safari"),
    pytest.param(IPHONE_CHROME, IOS, "mobile", "iOS", "Chrome Mobile iOS", id="iphone-chrome"),
    pytest.param(IPAD_SAFARI, IOS, "tablet", "iOS", "Mobile Safari", id="ipad-safari"),
    pytest.param(ANDROID_CHROME, ANDROID, "mobile", "Android", "Chrome Mobile", id="android-chrome"),
    pytest.param(SAMSUNG_INTERNET, ANDROID, "mobile", "Android", "Samsung Internet", id="samsung-internet"),
    pytest.param(ANDROID_TABLET, ANDROID, "tablet", "Android", "Chrome", id="android-tablet"),
    pytest.param(KAIOS, ANDROID, "mobile", "KaiOS", "Firefox Mobile", id="kaios-feature-phone"),
    pytest.param(WINDOWS_CHROME, PAGE, "desktop", "Windows", "Chrome", id="windows-chrome"),
    pytest.param(WINDOWS_FIREFOX, PAGE, "desktop", "Windows", "Firefox", id="windows-firefox"),
    pytest.param(MAC_FIREFOX, PAGE, "desktop", "Mac OS X", "Firefox", id="mac-firefox"),
    pytest.param(MAC_SAFARI, PAGE, "desktop", "Mac OS X", "Safari", id="mac-safari"),
    pytest.param(MAC_CHROME, PAGE, "desktop", "Mac OS X", "Chrome", id="mac-chrome"),
    pytest.param(FACEBOOK_PREVIEW, PAGE, "bot", "", "FacebookBot", id="facebook-preview"),
    pytest.param(SLACK_PREVIEW, PAGE, "bot", "", "Slackbot-LinkExpanding", id="slack-preview"),
    pytest.param(IMESSAGE_PREVIEW, PAGE, "bot", "Mac OS X", "FacebookBot", id="imessage-preview"),
    pytest.param(GOOGLEBOT, PAGE, "bot", "", "Googlebot", id="googlebot"),
    pytest.param("", PAGE, "other", "", "", id="no-user-agent"),
    pytest.param("curl/8.5.0", PAGE, "other", "", "curl", id="curl"),
]


@pytest.fixture
def code(tenant_a):
    return services.qr_code_create(
        business=tenant_a.business, number=tenant_a.number, keyword=tenant_a.keyword, label="Front door"
    )


def scan(code_or_slug, user_agent="", client=None, **extra):
    slug = code_or_slug.slug if isinstance(code_or_slug, QRCode) else code_or_slug
    if user_agent:
        extra["HTTP_USER_AGENT"] = user_agent
    return (client or Client()).get(f"/q/{slug}", **extra)


# --- where each device is sent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user_agent", "target", "device", "os", "browser"), DEVICES)
def test_each_device_is_sent_where_it_can_text_and_the_scan_is_recorded(code, user_agent, target, device, os, browser):
    response = scan(code, user_agent, REMOTE_ADDR="203.0.113.7", HTTP_REFERER="https://instagram.com/p/abc")

    phone = code.number.phone_number
    if target is PAGE:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert b"JOIN " + code.ref.encode() in response.content
    else:
        assert response.status_code == 302
        assert response["Location"] == target.format(phone=phone, ref=code.ref)
    scan_row = Scan.objects.get()
    assert (scan_row.device_type, scan_row.os, scan_row.browser) == (device, os, browser)
    assert (scan_row.qr_code, scan_row.business) == (code, code.business)
    assert scan_row.ip == "203.0.113.7"
    assert scan_row.referrer == "https://instagram.com/p/abc"
    assert scan_row.user_agent == user_agent
    assert scan_row.scanned_at is not None


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("ios", "sms:+15551234567&body=JOIN%20Q7K2"),
        ("android", "sms:+15551234567?body=JOIN%20Q7K2"),
        ("other", "sms:+15551234567?body=JOIN%20Q7K2"),
    ],
)
def test_sms_link_syntax_per_platform(platform, expected):
    assert sms_link(phone_number="+15551234567", body="JOIN Q7K2", platform=platform) == expected


def test_the_body_is_percent_encoded_with_spaces_as_percent_20_never_plus():
    link = sms_link(phone_number="+15551234567", body="JOIN & win +1 50%?", platform="android")
    assert link == "sms:+15551234567?body=JOIN%20%26%20win%20%2B1%2050%25%3F"


def test_scans_are_never_cached(code):
    for user_agent in (IPHONE_SAFARI, MAC_SAFARI):
        cache_control = scan(code, user_agent)["Cache-Control"]
        assert "no-cache" in cache_control and "no-store" in cache_control


# --- what is recorded ---------------------------------------------------------------------------------------------


def test_an_ipv6_address_is_recorded(code):
    scan(code, IPHONE_SAFARI, REMOTE_ADDR="2001:db8::1")
    assert Scan.objects.get().ip == "2001:db8::1"


def test_a_missing_or_garbled_address_records_no_ip_rather_than_failing(code):
    scan(code, IPHONE_SAFARI, REMOTE_ADDR="")
    scan(code, IPHONE_SAFARI, REMOTE_ADDR="not-an-ip")
    assert list(Scan.objects.values_list("ip", flat=True)) == [None, None]


def test_a_long_user_agent_and_referrer_are_truncated_to_fit(code):
    user_agent = IPHONE_SAFARI + " x" * 400
    referrer = "https://example.com/?" + "a" * 1000

    response = scan(code, user_agent, HTTP_REFERER=referrer)

    assert response.status_code == 302
    row = Scan.objects.get()
    assert row.user_agent == user_agent[:500]
    assert row.referrer == referrer[:500]
    assert row.device_type == "mobile"


def test_every_scan_is_a_row_even_from_the_same_phone(code):
    for _ in range(3):
        scan(code, ANDROID_CHROME)
    assert Scan.objects.filter(qr_code=code).count() == 3


def test_a_head_request_is_answered_but_not_counted(code):
    response = Client().head(f"/q/{code.slug}", HTTP_USER_AGENT=IPHONE_SAFARI)

    assert response.status_code == 302
    assert not Scan.objects.exists()


def test_a_post_is_refused(code):
    assert Client().post(f"/q/{code.slug}").status_code == 405
    assert not Scan.objects.exists()


# --- the page for computers and link previews -----------------------------------------------------------------------


def test_the_page_says_what_to_text_with_the_disclosures_and_shows_the_code(code):
    code.business.support_contact = "help@tonys.example"
    code.business.save()

    response = scan(code, MAC_SAFARI)

    assert response.status_code == 200
    page = response.content.decode()
    for expected in [
        "Tony&#x27;s Pizza",  # the business name, escaped
        "(415) 555-",  # the number, readable: national form, the business being in the US
        f"JOIN {code.ref}",  # what to text
        "Tony&#x27;s Pizza text alerts",  # the program
        "recurring text messages",
        "Msg frequency varies",
        "Msg &amp; data rates may apply",
        "Reply STOP to cancel, HELP for help",
        "help@tonys.example",
        'href="/privacy/"',
        'href="/terms/"',
        'name="viewport"',  # readable on a phone
        f'href="sms:{code.number.phone_number}?&amp;body=JOIN%20{code.ref}"',
    ]:
        assert expected in page, expected
    assert page.count("<svg") == 1


def test_the_code_on_the_page_reads_back_as_its_own_url(code, settings):
    page = scan(code, WINDOWS_CHROME).content.decode()

    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    assert decode_modules(svg_modules(svg)) == [f"{settings.PUBLIC_BASE_URL}/q/{code.slug}"]


def test_a_business_name_with_markup_is_shown_as_text(code):
    code.business.name = "<script>alert(1)</script> Deli"
    code.business.save()

    page = scan(code, MAC_CHROME).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Deli" in page


# --- codes that no longer work -----------------------------------------------------------------------------------


def _switch_off(code):
    code.is_active = False
    code.save()


def _keyword_off(code):
    code.keyword.is_active = False
    code.keyword.save()


def _business_deleted(code):
    code.business.status = Business.Status.DELETED
    code.business.save()


@pytest.mark.parametrize("kill", [_switch_off, _keyword_off, _business_deleted], ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("user_agent", [IPHONE_SAFARI, ANDROID_CHROME, MAC_SAFARI, FACEBOOK_PREVIEW])
def test_a_dead_code_is_a_clear_404_and_no_scan(code, kill, user_agent):
    kill(code)

    response = scan(code, user_agent)

    assert response.status_code == 404
    assert b"This QR code is no longer active" in response.content
    assert b"have not been signed up" in response.content
    assert not Scan.objects.exists()


@pytest.mark.parametrize(
    "slug",
    ["unknown-slug", "x" * 33, "x" * 2000, "%00", "abc%00def", "a.b", "%F0%9F%98%80", "'%20OR%201=1--", "%20"],
    ids=["unknown", "too-long", "very-long", "nul", "inner-nul", "dot", "emoji", "sql", "space"],
)
def test_an_unknown_or_malformed_slug_is_a_404_page_never_a_500(db, slug):
    response = Client().get(f"/q/{slug}", HTTP_USER_AGENT=IPHONE_SAFARI)

    assert response.status_code == 404
    assert b"This QR code is no longer active" in response.content
    assert not Scan.objects.exists()


def test_switching_a_code_back_on_brings_it_back(tenant_a, code):
    _switch_off(code)
    assert scan(code, IPHONE_SAFARI).status_code == 404

    api_client(tenant_a.admin).patch(f"/api/v1/qr-codes/{code.pk}/", {"is_active": True}, format="json")

    assert scan(code, IPHONE_SAFARI).status_code == 302


# --- the opt-in, end to end ------------------------------------------------------------------------------------------


def _stats(tenant, code):
    item = api_client(tenant.member).get(f"/api/v1/qr-codes/{code.pk}/").json()
    return item["scans"], item["opt_ins"], item["conversion_rate"]


def test_scan_then_text_opts_in_through_the_qr_code_and_the_counts_show_it(tenant_a, code):
    client = Client()
    response = scan(code, IPHONE_SAFARI, client=client, REMOTE_ADDR="198.51.100.20")
    assert response["Location"] == f"sms:{tenant_a.number.phone_number}&body=JOIN%20{code.ref}"
    assert _stats(tenant_a, code) == (1, 0, 0.0)

    # What the messaging app sends: the prefilled body, to the code's number.
    text_in(from_number=CONSUMER, to_number=code.number.phone_number, text=code.prefilled_body, message_id="in-qr")

    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=CONSUMER)
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert subscriber.opt_in_method == "qr_code"
    assert subscriber.qr_code == code
    event = ConsentEvent.objects.get(business=tenant_a.business, phone_number=CONSUMER)
    assert (event.kind, event.method) == ("opt_in", "qr_code")
    assert event.evidence["qr_code_id"] == code.pk
    assert event.evidence["qr_ref"] == code.ref
    assert event.evidence["inbound_text"] == code.prefilled_body
    assert _stats(tenant_a, code) == (1, 1, 1.0)

    # A second scan from a computer, a link preview (not counted), and the same phone texting again (still one).
    scan(code, MAC_CHROME)
    scan(code, FACEBOOK_PREVIEW)
    text_in(from_number=CONSUMER, to_number=code.number.phone_number, text=code.prefilled_body)
    assert Scan.objects.filter(qr_code=code).count() == 3
    assert _stats(tenant_a, code) == (2, 1, 0.5)


def test_only_texts_carrying_this_code_reference_count_for_it(tenant_a, tenant_b, code):
    other = services.qr_code_create(
        business=tenant_a.business, number=tenant_a.number, keyword=tenant_a.keyword, label="Back door"
    )
    scan(code, ANDROID_CHROME)
    text_in(from_number="+12025550150", to_number=tenant_a.number.phone_number, text="JOIN")  # plain keyword
    text_in(from_number="+12025550151", to_number=tenant_a.number.phone_number, text=other.prefilled_body)
    # The same words sent to another business's number do not credit A's code.
    text_in(from_number="+12025550152", to_number=tenant_b.number.phone_number, text=code.prefilled_body)

    assert _stats(tenant_a, code) == (1, 0, 0.0)
    assert _stats(tenant_a, other)[1] == 1
    assert Subscriber.objects.get(phone_number="+12025550150").qr_code is None
    assert Subscriber.objects.get(business=tenant_b.business, phone_number="+12025550152").qr_code is None


def test_deleting_a_code_keeps_its_subscribers_and_their_evidence(tenant_a, code):
    scan(code, IPHONE_SAFARI)
    text_in(from_number=CONSUMER, to_number=code.number.phone_number, text=code.prefilled_body)
    code_id = code.pk

    assert api_client(tenant_a.admin).delete(f"/api/v1/qr-codes/{code_id}/").status_code == 204

    subscriber = Subscriber.objects.get(phone_number=CONSUMER)
    assert subscriber.status == Subscriber.Status.SUBSCRIBED and subscriber.qr_code is None
    assert ConsentEvent.objects.get(phone_number=CONSUMER).evidence["qr_code_id"] == code_id
    assert not Scan.objects.exists()


def test_a_reference_texted_with_another_keyword_is_not_credited_to_the_code(tenant_a, code):
    from subscribers.models import Keyword

    other = Keyword.objects.create(business=tenant_a.business, number=tenant_a.number, keyword="PIZZA")
    text_in(from_number="+12125550177", to_number=tenant_a.number.phone_number, text=f"{other.keyword} {code.ref}")
    subscriber = Subscriber.objects.get(phone_number="+12125550177")
    assert (subscriber.opt_in_method, subscriber.qr_code) == ("keyword", None)
    assert ConsentEvent.objects.get(phone_number="+12125550177").method == "keyword"
