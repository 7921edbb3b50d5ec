"""The hosted opt-in form end to end: the page, CSRF, the double opt-in (form → one "Reply YES" text through the real
telnyx SDK to the fake Telnyx server → the consumer's YES through the signed webhook), and every refusal."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from accounts.models import Business
from campaigns import services as campaign_services
from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind
from consent.services import suppression_add_manual
from messaging import services as messaging_services
from messaging.models import Message
from messaging.services import SendRefused, message_queue, transactional_send
from subscribers.models import Subscriber
from tests.factories import MembershipFactory, SenderNumberFactory
from tests.helpers import text_in
from web import webform

CONSUMER = "+13125550001"
TYPED = "(312) 555-0001"
IP = "198.51.100.7"
REQUEST_TEXT = (
    "Tony's Pizza: Reply YES to confirm you want text alerts. Msg frequency varies. Msg & data rates may apply. "
    "Reply STOP to cancel."
)
# 17:00 UTC on a winter weekday: noon in Chicago's neighbour New York, inside every quiet-hours window.
DAYTIME = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)


def _url(tenant):
    return reverse("join", args=[tenant.business.slug])


def _submit(tenant, phone=TYPED, *, consent=True, ip=IP, client=None, digest=None, **extra):
    """Post the form as a browser that loaded the page would; the send tasks run after the request commits."""
    data = {"phone": phone, "disclosure_digest": digest or webform.disclosure_for(business=tenant.business).digest}
    if consent:
        data["consent"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or Client()).post(_url(tenant), data, REMOTE_ADDR=ip, **extra)


def _text(tenant, text, phone=CONSUMER):
    return text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


def _html(response) -> str:
    return html.unescape(response.content.decode())


def _page(response) -> str:
    """The page's text as a reader sees it: no markup, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _disclosure_shown(response) -> str:
    """The words next to the checkbox, without markup."""
    label = re.search(r'<label for="id_consent" id="disclosure">(.*?)</label>', response.content.decode(), re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", label.group(1)))


def _nothing_sent(tenant, fake_telnyx, phone=CONSUMER):
    assert fake_telnyx.messages() == []
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert not ConsentEvent.objects.filter(business=tenant.business, kind=ConsentEvent.Kind.PENDING).exists()


# --- The page ---------------------------------------------------------------------------------------------------------


def test_page_shows_the_business_a_phone_field_an_unticked_box_and_every_disclosure(tenant_a):
    response = Client().get(_url(tenant_a))
    assert response.status_code == 200
    page = _html(response)
    assert "<h1>Tony's Pizza</h1>" in page
    assert re.search(r'<input type="tel" name="phone"', page)
    checkbox = re.search(r'<input type="checkbox" name="consent"[^>]*>', page).group(0)
    assert "checked" not in checkbox
    shown = _disclosure_shown(response)
    for disclosure in [
        "Tony's Pizza text alerts",
        "Msg frequency varies",
        "Msg & data rates may apply",
        "Reply STOP to cancel, HELP for help",
        "Consent is not a condition of purchase",
        "Terms",
        "Privacy Policy",
    ]:
        assert disclosure in shown
    assert '<a href="/terms/">Terms</a>' in page and '<a href="/privacy/">Privacy Policy</a>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert response["Cache-Control"].startswith("max-age=0")  # a page carrying a CSRF token is never cached


def test_each_business_has_its_own_page(tenant_a, tenant_b):
    page = _page(Client().get(_url(tenant_b)))
    assert "Bella Realty text alerts" in page and "Tony's Pizza" not in page


def test_unknown_slug_is_a_404_page(tenant_a):
    response = Client().get(reverse("join", args=["no-such-business"]))
    assert response.status_code == 404
    assert "no text alert sign-up at this address" in _page(response)


@pytest.mark.parametrize("status", [Business.Status.SUSPENDED, Business.Status.DELETED])
def test_a_business_that_is_not_active_is_a_404_and_texts_nobody(tenant_a, fake_telnyx, status):
    Business.objects.filter(pk=tenant_a.business.pk).update(status=status)
    assert Client().get(_url(tenant_a)).status_code == 404
    assert _submit(tenant_a).status_code == 404
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


def test_a_business_without_a_sender_number_says_it_cannot_take_sign_ups(fake_telnyx, db):
    business = MembershipFactory(business__name="No Numbers Yet").business
    response = Client().get(reverse("join", args=[business.slug]))
    assert response.status_code == 200
    assert "No Numbers Yet isn't taking text alert sign-ups yet" in _page(response)
    assert 'name="phone"' not in _html(response)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client().post(reverse("join", args=[business.slug]), {"phone": TYPED, "consent": "on"})
    assert response.status_code == 409
    assert "isn't taking text alert sign-ups" in _page(response)
    assert not Subscriber.objects.exists() and fake_telnyx.messages() == []


def test_other_methods_are_refused(tenant_a):
    assert Client().put(_url(tenant_a)).status_code == 405


# --- CSRF -------------------------------------------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused_and_texts_nobody(tenant_a, fake_telnyx):
    client = Client(enforce_csrf_checks=True)
    response = _submit(tenant_a, client=client)
    assert response.status_code == 403
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


def test_a_post_with_the_token_from_the_page_goes_through(tenant_a, fake_telnyx):
    client = Client(enforce_csrf_checks=True)
    page = client.get(_url(tenant_a)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            _url(tenant_a),
            {"phone": TYPED, "consent": "on", "csrfmiddlewaretoken": token,
             "disclosure_digest": webform.disclosure_for(business=tenant_a.business).digest},
        )  # fmt: skip
    assert response.status_code == 200
    assert len(fake_telnyx.messages()) == 1


# --- The double opt-in ------------------------------------------------------------------------------------------------


def test_double_opt_in_end_to_end(tenant_a, fake_telnyx):
    shown = _disclosure_shown(Client().get(_url(tenant_a)))
    response = _submit(tenant_a, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")

    assert response.status_code == 200
    assert "Check your phone" in _page(response)
    assert "We've texted (312) 555-0001" in _page(response)

    # Pending, never subscribed.
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=CONSUMER)
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.pending_since is not None and subscriber.opted_in_at is None
    assert subscriber.number == tenant_a.number

    # The ledger holds the evidence of what the consumer did and saw.
    [pending] = ConsentEvent.objects.filter(business=tenant_a.business)
    assert (pending.kind, pending.method, pending.phone_number) == ("pending", "web_form", CONSUMER)
    evidence = pending.evidence
    assert evidence["ip"] == IP
    assert evidence["user_agent"] == "Mozilla/5.0 (iPhone)"
    assert evidence["disclosure_text"] == shown
    assert evidence["checkbox"] is True
    assert datetime.fromisoformat(evidence["submitted_at"]) == subscriber.pending_since == pending.occurred_at
    assert evidence["form_url"] == f"http://testserver{_url(tenant_a)}"
    # The number is evidence as its keyed hash (the chain) and the erasable phone field, never inside the evidence.
    assert TYPED not in str(evidence) and CONSUMER not in str(evidence)
    assert evidence["request_text"] == REQUEST_TEXT

    # Exactly one "Reply YES" text, from the business's first number.
    [request] = fake_telnyx.messages()
    assert (request["from"], request["to"], request["text"]) == (tenant_a.number.phone_number, CONSUMER, REQUEST_TEXT)
    message = Message.objects.get(kind=Message.Kind.OPT_IN_REQUEST)
    assert message.status == Message.Status.SENT and message.phone_number == CONSUMER

    # The consumer's YES completes it.
    _text(tenant_a, "YES")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert subscriber.opt_in_method == Subscriber.Method.WEB_FORM
    assert subscriber.pending_since is None and subscriber.opted_in_at is not None
    confirm = ConsentEvent.objects.filter(business=tenant_a.business).last()
    assert (confirm.kind, confirm.method) == ("confirm", "web_form")
    assert confirm.evidence["inbound_text"] == "YES"
    assert confirm.evidence["web_form_pending_since"] == pending.occurred_at.isoformat()

    request, confirmation = fake_telnyx.messages()
    assert confirmation["to"] == CONSUMER and confirmation["from"] == tenant_a.number.phone_number
    for disclosure in ["Tony's Pizza", "Msg frequency varies", "Msg & data rates may apply", "HELP", "STOP"]:
        assert disclosure in confirmation["text"]
    assert confirm.evidence["reply_text"] == confirmation["text"]


@pytest.mark.parametrize("reply", ["START", "yes", " Yes! ", "join"])
def test_start_and_the_keyword_confirm_too(tenant_a, fake_telnyx, reply):
    _submit(tenant_a)
    _text(tenant_a, reply)
    subscriber = Subscriber.objects.get(phone_number=CONSUMER)
    assert (subscriber.status, subscriber.opt_in_method) == ("subscribed", "web_form")
    assert ConsentEvent.objects.filter(kind="confirm", method="web_form").count() == 1
    assert len(fake_telnyx.messages()) == 2


def test_a_yes_within_24_hours_confirms(tenant_a, fake_telnyx, time_machine):
    time_machine.move_to(DAYTIME, tick=True)
    _submit(tenant_a)
    time_machine.move_to(DAYTIME + timedelta(hours=23, minutes=59), tick=True)
    _text(tenant_a, "YES")
    assert ConsentEvent.objects.filter(kind="confirm", method="web_form").count() == 1


def test_a_yes_after_24_hours_is_not_the_web_form_confirmation(tenant_a, fake_telnyx, time_machine):
    time_machine.move_to(DAYTIME, tick=True)
    _submit(tenant_a)
    time_machine.move_to(DAYTIME + timedelta(hours=25), tick=True)
    _text(tenant_a, "YES")

    # A YES is an opt-in word of its own: it subscribes, but as a keyword opt-in, not as the form's confirmation.
    assert not ConsentEvent.objects.filter(kind="confirm").exists()
    latest = ConsentEvent.objects.filter(business=tenant_a.business).last()
    assert (latest.kind, latest.method) == ("opt_in", "keyword")
    assert Subscriber.objects.get(phone_number=CONSUMER).opt_in_method == Subscriber.Method.KEYWORD


def test_a_yes_to_another_business_does_not_confirm(tenant_a, tenant_b, fake_telnyx):
    _submit(tenant_a)
    _text(tenant_b, "YES")
    assert Subscriber.objects.get(business=tenant_a.business, phone_number=CONSUMER).status == "pending"
    assert not ConsentEvent.objects.filter(business=tenant_a.business, kind="confirm").exists()


def test_the_same_number_signs_up_to_two_businesses_separately(tenant_a, tenant_b, fake_telnyx):
    assert _submit(tenant_a).status_code == 200
    assert _submit(tenant_b, ip="198.51.100.8").status_code == 200
    assert sorted(m["from"] for m in fake_telnyx.messages()) == sorted(
        [tenant_a.number.phone_number, tenant_b.number.phone_number]
    )
    assert "Bella Realty: Reply YES" in fake_telnyx.messages()[1]["text"]


def test_a_stop_before_the_yes_opts_out_and_nothing_follows(tenant_a, fake_telnyx):
    _submit(tenant_a)
    _text(tenant_a, "STOP")
    assert Subscriber.objects.get(phone_number=CONSUMER).status == Subscriber.Status.UNSUBSCRIBED
    assert Suppression.objects.filter(business=tenant_a.business).exists()
    assert [m["text"][:20] for m in fake_telnyx.messages()] == [REQUEST_TEXT[:20], "You're unsubscribed "]


# --- An unconfirmed sign-up is never texted again ---------------------------------------------------------------------


def test_an_unconfirmed_number_gets_no_transactional_message(tenant_a, fake_telnyx):
    _submit(tenant_a)
    with pytest.raises(SendRefused, match="not subscribed \\(pending\\)"):
        transactional_send(business=tenant_a.business, to=CONSUMER, body="Your order is ready")
    assert len(fake_telnyx.messages()) == 1


def test_an_unconfirmed_number_is_left_out_of_campaigns(tenant_a, fake_telnyx):
    _submit(tenant_a)
    _text(tenant_a, "JOIN", phone="+12125550143")  # a subscribed consumer
    campaign = campaign_services.campaign_create(
        business=tenant_a.business, name="Promo", body="2 for 1 tonight", sender_number=tenant_a.number
    )
    with TestCase.captureOnCommitCallbacks(execute=False):
        campaign_services.campaign_launch(campaign=campaign, now=DAYTIME)
        campaign_services.campaign_fan_out(campaign_id=campaign.pk, now=DAYTIME)
    ids = list(Message.objects.filter(status=Message.Status.QUEUED).values_list("pk", flat=True))
    messaging_services.messages_send(message_ids=ids, now=DAYTIME)

    assert list(campaign.messages.values_list("phone_number", flat=True)) == ["+12125550143"]
    assert [m["to"] for m in fake_telnyx.messages() if m["text"] == "2 for 1 tonight"] == ["+12125550143"]
    assert [m["text"] for m in fake_telnyx.messages() if m["to"] == CONSUMER] == [REQUEST_TEXT]


@pytest.mark.parametrize("kind", [SendKind.MARKETING, SendKind.TRANSACTIONAL, SendKind.OPT_IN_CONFIRMATION])
def test_a_message_queued_to_an_unconfirmed_number_any_other_way_is_blocked_at_send_time(
    tenant_a, fake_telnyx, kind, time_machine
):
    # Daytime for the recipient: the queued task sends at once, so consent (not quiet hours) decides.
    time_machine.move_to(DAYTIME, tick=True)
    _submit(tenant_a)
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = message_queue(
            business=tenant_a.business, sender_number=tenant_a.number, phone=CONSUMER, kind=kind, body="Hello"
        )
    messaging_services.message_send(message_id=message.pk, now=DAYTIME)
    message.refresh_from_db()
    assert message.status == Message.Status.BLOCKED
    assert [m["text"] for m in fake_telnyx.messages()] == [REQUEST_TEXT]


def test_a_second_opt_in_request_cannot_be_queued_once_the_number_is_subscribed(tenant_a, fake_telnyx):
    _submit(tenant_a)
    _text(tenant_a, "YES")
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = message_queue(
            business=tenant_a.business, sender_number=tenant_a.number, phone=CONSUMER,
            kind=SendKind.OPT_IN_REQUEST, body=REQUEST_TEXT,
        )  # fmt: skip
    message.refresh_from_db()
    assert message.status == Message.Status.BLOCKED
    assert len(fake_telnyx.messages()) == 2


# --- Typed formats ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "(312) 555-0001",
        "312-555-0001",
        "+1 312 555 0001",
        "312.555.0001",
        "312 555 0001",
        "  3125550001  ",
        "1-312-555-0001",
        "+1 (312) 555-0001",
        "+13125550001",
    ],
)
def test_typed_formats_normalise_to_the_same_number(tenant_a, fake_telnyx, typed):
    assert _submit(tenant_a, typed).status_code == 200
    assert Subscriber.objects.get().phone_number == CONSUMER
    assert [m["to"] for m in fake_telnyx.messages()] == [CONSUMER]


# --- Refusals: nothing is texted, and the page says why ---------------------------------------------------------------


def test_an_unticked_box_is_refused(tenant_a, fake_telnyx):
    response = _submit(tenant_a, consent=False)
    assert response.status_code == 400
    assert "Tick the box to agree to the text alerts" in _page(response)
    assert 'value="(312) 555-0001"' in _html(response)  # what they typed is kept
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


@pytest.mark.parametrize(
    "typed, why",
    [
        ("", "Enter your mobile number."),
        ("   ", "Enter your mobile number."),
        ("555-0001", "is missing its area code"),
        ("312-55", "is too short for a phone number"),
        ("12", "is too short for a phone number"),
        ("+1 312 555 00011", "has too many digits"),
        ("(123) 555-0001", "isn't a phone number in service; check the area code"),
        ("pizza", "doesn't look like a phone number"),
        ("+999 1234", "doesn't look like a phone number"),
        ("+1 800 555 0100", "toll-free number"),
        ("1-800-FLOWERS", "toll-free number"),
        ("(900) 555-0100", "premium-rate number"),
        ("+1 500 555 0100", "forwarding (personal) number"),
        ("+44 20 7946 0000", "looks like a landline"),
        ("+44 56 1234 5678", "internet-phone (VoIP) number"),
        ("+44 7911 123456", "only texts US mobile numbers"),
        ("+1 876 555 0100", "only texts US mobile numbers"),  # Jamaica: "+1", but an SMS-pumping favourite
        ("+1 416 555 0100", "only texts US mobile numbers"),
        ("3" * 41, "too long for a phone number"),
    ],
)
def test_numbers_that_cannot_be_texted_are_refused_with_the_reason(tenant_a, fake_telnyx, typed, why):
    response = _submit(tenant_a, typed)
    assert response.status_code == 400
    assert why in _page(response)
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("(312) 555-0001", CONSUMER),
        ("+1.312.555.0001", CONSUMER),
        ("+1 202 555 0143", "+12025550143"),
        ("+1 800 555 0100", webform.REFUSED_TYPES[webform.PhoneType.TOLL_FREE]),
        ("+44 20 7946 0000", webform.REFUSED_TYPES[webform.PhoneType.FIXED_LINE]),
    ],
)
def test_phone_for_texting(typed, expected):
    try:
        assert webform.phone_for_texting(raw=typed, region="US") == expected
    except webform.NumberRefused as exc:
        assert str(exc) == expected


def test_a_number_already_pending_is_not_texted_again(tenant_a, fake_telnyx):
    _submit(tenant_a)
    response = _submit(tenant_a, "312.555.0001", ip="198.51.100.8")
    assert response.status_code == 409
    assert "We already sent a text to (312) 555-0001 and won't send another" in _page(response)
    assert "Reply YES to that text to confirm" in _page(response)
    assert len(fake_telnyx.messages()) == 1
    assert ConsentEvent.objects.filter(kind="pending").count() == 1


@pytest.mark.parametrize("later", [timedelta(hours=25), timedelta(days=30), timedelta(days=400)])
def test_a_number_left_unconfirmed_is_never_texted_again(tenant_a, fake_telnyx, time_machine, later):
    time_machine.move_to(DAYTIME, tick=False)
    _submit(tenant_a)
    time_machine.move_to(DAYTIME + later, tick=False)
    response = _submit(tenant_a, ip="198.51.100.8")
    assert response.status_code == 409
    page = _page(response)
    assert "We already sent a text to (312) 555-0001 and won't send another" in page
    assert "24 hours" not in page  # when it was sent is not the visitor's business
    assert [m["text"] for m in fake_telnyx.messages()] == [REQUEST_TEXT]
    assert ConsentEvent.objects.filter(kind="pending").count() == 1
    assert Subscriber.objects.get().pending_since == DAYTIME  # the evidence of the one request stays as it was

    # Their own YES still subscribes them (a keyword opt-in by then, as a YES always is).
    _text(tenant_a, "YES")
    assert Subscriber.objects.get().status == Subscriber.Status.SUBSCRIBED


def test_a_subscribed_number_is_told_so_and_not_texted(tenant_a, fake_telnyx):
    _text(tenant_a, "JOIN")
    fake_telnyx.reset()
    response = _submit(tenant_a)
    assert response.status_code == 409
    assert "(312) 555-0001 is already subscribed to Tony's Pizza text alerts" in _page(response)
    assert fake_telnyx.messages() == []
    assert Subscriber.objects.get().status == Subscriber.Status.SUBSCRIBED
    assert not ConsentEvent.objects.filter(kind="pending").exists()


def test_an_opted_out_number_is_not_texted_and_is_told_to_text_start(tenant_a, fake_telnyx):
    _text(tenant_a, "JOIN")
    _text(tenant_a, "STOP")
    fake_telnyx.reset()

    response = _submit(tenant_a)
    assert response.status_code == 409
    assert "opted out of Tony's Pizza texts" in _page(response)
    assert "text START to (415) 555" in _page(response)
    assert fake_telnyx.messages() == []
    assert Suppression.objects.filter(business=tenant_a.business, reason="stop").exists()  # the STOP stands
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    assert not ConsentEvent.objects.filter(kind="pending").exists()

    # Their own START lifts it, as always.
    _text(tenant_a, "START")
    assert Subscriber.objects.get().status == Subscriber.Status.SUBSCRIBED
    assert not Suppression.objects.filter(business=tenant_a.business).exists()


def test_a_number_that_stopped_after_the_request_cannot_be_asked_again(tenant_a, fake_telnyx):
    _submit(tenant_a)
    _text(tenant_a, "STOP")
    response = _submit(tenant_a, ip="198.51.100.8")
    assert response.status_code == 409 and "opted out" in _page(response)
    assert len(fake_telnyx.messages()) == 2  # the request and the STOP confirmation


def test_a_number_on_the_business_do_not_text_list_is_not_texted(tenant_a, fake_telnyx):
    suppression_add_manual(business=tenant_a.business, phone=CONSUMER, user=None)
    response = _submit(tenant_a)
    assert response.status_code == 409
    assert "Tony's Pizza can't send texts to (312) 555-0001" in _page(response)
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


def test_wording_changed_since_the_page_loaded_asks_again(tenant_a, fake_telnyx):
    stale = webform.disclosure_for(business=tenant_a.business).digest
    Business.objects.filter(pk=tenant_a.business.pk).update(name="Tony's Pizzeria")
    response = _submit(tenant_a, digest=stale)
    assert response.status_code == 400
    assert "The wording next to the box changed" in _page(response)
    checkbox = re.search(r'<input type="checkbox" name="consent"[^>]*>', _html(response)).group(0)
    assert "checked" not in checkbox
    assert "Tony's Pizzeria text alerts" in _disclosure_shown(response)
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


# --- Rate limits ------------------------------------------------------------------------------------------------------


def test_submissions_per_ip_are_limited(tenant_a, tenant_b, fake_telnyx, settings):
    for i in range(settings.WEB_FORM_IP_HOURLY):
        assert _submit(tenant_a, f"312-555-010{i}").status_code == 200
    response = _submit(tenant_a, "312-555-0109")
    assert response.status_code == 429
    assert "too many sign-up attempts from your connection" in _page(response)
    assert "Nothing was sent" in _page(response)
    assert len(fake_telnyx.messages()) == settings.WEB_FORM_IP_HOURLY
    assert not Subscriber.objects.filter(phone_number="+13125550109").exists()

    assert _submit(tenant_a, "312-555-0109", ip="198.51.100.99").status_code == 200  # another address
    assert _submit(tenant_b, "312-555-0109").status_code == 200  # another business's form


def test_refused_submissions_count_against_the_ip(tenant_a, fake_telnyx, settings):
    for _ in range(settings.WEB_FORM_IP_HOURLY):
        assert _submit(tenant_a, "pizza").status_code == 400
    assert _submit(tenant_a).status_code == 429
    assert fake_telnyx.messages() == []


def test_a_forged_forwarded_for_header_does_not_escape_the_ip_limit(tenant_a, fake_telnyx, settings):
    for i in range(settings.WEB_FORM_IP_HOURLY):
        _submit(tenant_a, f"312-555-010{i}", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert _submit(tenant_a, "312-555-0109", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
    assert ConsentEvent.objects.first().evidence["ip"] == IP  # no proxy configured: the header is not trusted


def test_submissions_per_number_are_limited_counting_refused_ones(tenant_a, fake_telnyx, settings):
    for i in range(settings.WEB_FORM_NUMBER_DAILY):
        assert _submit(tenant_a, consent=False, ip=f"198.51.100.{i}").status_code == 400
    response = _submit(tenant_a, ip="198.51.100.50")
    assert response.status_code == 429
    assert "too many sign-up attempts for this number today" in _page(response)
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


def test_the_number_limit_holds_whatever_format_it_is_typed_in(tenant_a, fake_telnyx):
    typed = ["(312) 555-0001", "312.555.0001", "+1 312 555 0001", "3125550001"]
    statuses = [_submit(tenant_a, t, ip=f"198.51.100.{i}").status_code for i, t in enumerate(typed)]
    assert statuses == [200, 409, 409, 429]
    assert len(fake_telnyx.messages()) == 1


def test_the_number_limit_resets_after_a_day(tenant_a, fake_telnyx, time_machine, settings):
    time_machine.move_to(DAYTIME, tick=True)
    for i in range(settings.WEB_FORM_NUMBER_DAILY + 1):
        _submit(tenant_a, consent=False, ip=f"198.51.100.{i}")
    time_machine.move_to(DAYTIME + timedelta(days=1, minutes=1), tick=True)
    assert _submit(tenant_a, ip="198.51.100.60").status_code == 200


def _businesses(count):
    """`count` more businesses, each with a sender number and a live sign-up page."""
    return [SenderNumberFactory(business=MembershipFactory().business).business for _ in range(count)]


def _submit_to(business, phone=TYPED, *, ip=IP):
    data = {"phone": phone, "consent": "on", "disclosure_digest": webform.disclosure_for(business=business).digest}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(reverse("join", args=[business.slug]), data, REMOTE_ADDR=ip)


def test_one_address_cannot_sign_numbers_up_at_every_business(fake_telnyx, settings, db):
    settings.WEB_FORM_IP_HOURLY_ALL_BUSINESSES = 4
    businesses = _businesses(6)
    statuses = [_submit_to(b, f"312-555-01{i:02d}").status_code for i, b in enumerate(businesses)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    response = _submit_to(businesses[5], "312-555-0199")
    assert "too many sign-up attempts from your connection" in _page(response)
    assert len(fake_telnyx.messages()) == 4
    assert _submit_to(businesses[5], "312-555-0199", ip="198.51.100.99").status_code == 200  # another address


def test_the_default_address_limit_across_businesses_is_above_one_business_and_below_every_one(settings):
    assert settings.WEB_FORM_IP_HOURLY < settings.WEB_FORM_IP_HOURLY_ALL_BUSINESSES <= 20


def test_one_number_cannot_be_signed_up_at_every_business(fake_telnyx, settings, db):
    settings.WEB_FORM_NUMBER_DAILY_ALL_BUSINESSES = 3
    businesses = _businesses(5)
    statuses = [_submit_to(b, ip=f"198.51.100.{i}").status_code for i, b in enumerate(businesses)]
    assert statuses == [200, 200, 200, 429, 429]
    response = _submit_to(businesses[4], ip="198.51.100.77")
    assert "too many sign-up attempts for this number today" in _page(response)
    assert len(fake_telnyx.messages()) == 3
    assert _submit_to(businesses[4], "312-555-0002", ip="198.51.100.78").status_code == 200  # another number


def test_the_limits_across_businesses_reset_with_their_windows(fake_telnyx, settings, time_machine, db):
    settings.WEB_FORM_IP_HOURLY_ALL_BUSINESSES = 1
    settings.WEB_FORM_NUMBER_DAILY_ALL_BUSINESSES = 2
    first, second, third = _businesses(3)
    time_machine.move_to(DAYTIME, tick=False)
    assert _submit_to(first).status_code == 200
    assert _submit_to(second, "312-555-0002").status_code == 429  # the address, within the hour
    time_machine.move_to(DAYTIME + timedelta(hours=1, minutes=1), tick=False)
    assert _submit_to(second).status_code == 200
    assert _submit_to(third, ip="198.51.100.9").status_code == 429  # the number, within the day
    time_machine.move_to(DAYTIME + timedelta(days=1, minutes=1), tick=False)
    assert _submit_to(third, ip="198.51.100.9").status_code == 200


# --- Failures ---------------------------------------------------------------------------------------------------------


def test_an_unexpected_error_is_a_page_not_a_500_and_leaves_nothing_half_done(tenant_a, fake_telnyx, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(webform, "consent_event_record", broken)
    response = _submit(tenant_a)
    assert response.status_code == 503
    assert "Something went wrong on our side, and nothing was sent" in _page(response)
    assert 'value="(312) 555-0001"' in _html(response)
    assert not Subscriber.objects.exists()
    _nothing_sent(tenant_a, fake_telnyx)


def test_an_error_while_building_the_page_is_a_page_too(tenant_a, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(webform, "disclosure_for", broken)
    response = Client().get(_url(tenant_a))
    assert response.status_code == 503
    assert "Please try again" in _page(response)


def test_a_provider_failure_after_commit_still_shows_check_your_phone(tenant_a, fake_telnyx):
    """The sign-up is committed before the text is handed over; a refused hand-off is the message's story."""
    fake_telnyx.fail(status=500, code="10001", title="Internal error", times=None)
    response = _submit(tenant_a)
    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    message = Message.objects.get(kind=Message.Kind.OPT_IN_REQUEST)
    # A 500 leaves the hand-off in doubt: never resent blindly, reconciled against delivery reports.
    assert message.status in (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.FAILED)


def test_pending_since_is_the_submission_time(tenant_a, fake_telnyx, time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    _submit(tenant_a)
    assert Subscriber.objects.get().pending_since == DAYTIME == timezone.now()
