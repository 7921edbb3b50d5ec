"""The phone simulator: a pretend customer's texts take the signed webhook path; only on a local demo server."""

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from consent.models import ConsentEvent, Suppression
from messaging.models import Message, WebhookEvent
from subscribers.models import Subscriber
from tests.helpers import text_in

PAGE = "/app/simulator/"
CONVERSATION = "/app/simulator/conversation/"
PHONE = "+12025550123"


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True


def _send(client, tenant, text=None, *, quick=None, phone=PHONE, number=None):
    data = {"number": (number or tenant.number).pk, "phone": phone, "text": text or ""}
    if quick:
        data["quick"] = quick
    # The replies are handed to the SMS backend when the webhook's transaction commits, as on a real server.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(PAGE, data)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_page_renders_for_every_role(client, tenant_a, role):
    client.force_login(getattr(tenant_a, role).user)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert response.content.count(b"<h1") == 1
    assert PHONE in html and f"(415) 555-{tenant_a.number.phone_number[-4:]}" in html
    for word in ("JOIN", "STOP", "HELP", "START"):
        assert f'value="{word}"' in html or role == "member"


def test_keyword_subscribes_and_the_confirmation_shows_in_the_conversation(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = _send(client, tenant_a, quick="JOIN")
    assert response.status_code == 302
    assert response["Location"].startswith(PAGE + "?")
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE)
    assert subscriber.status == "subscribed"
    # It came through the real webhook: stored, verified and signed.
    assert WebhookEvent.objects.filter(event_type="message.received", outcome="keyword").count() == 1
    assert ConsentEvent.objects.filter(business=tenant_a.business, kind="opt_in").count() == 1
    page = client.get(response["Location"])
    html = page.content.decode()
    reply = Message.objects.get(business=tenant_a.business, direction="outbound", kind="opt_in_confirmation")
    assert reply.status == "sent"
    assert "Subscribed" in html and "Msg &amp; data rates may apply" in html and "Sent" in html
    fragment = client.get(CONVERSATION, {"number": tenant_a.number.pk, "phone": PHONE})
    assert fragment.status_code == 200
    assert b"Msg &amp; data rates may apply" in fragment.content
    assert b"data-refresh-url" in fragment.content and b"<h1" not in fragment.content


def test_stop_suppresses(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    _send(client, tenant_a, "JOIN")
    response = _send(client, tenant_a, quick="STOP")
    assert Suppression.objects.filter(business=tenant_a.business, reason="stop").count() == 1
    assert Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE).status == "unsubscribed"
    html = client.get(response["Location"]).content.decode()
    assert "On your do-not-text list" in html


def test_typed_text_reaches_the_inbox(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    _send(client, tenant_a, "Do you deliver to Elm Street?")
    message = Message.objects.get(business=tenant_a.business, direction="inbound")
    assert (message.kind, message.body) == ("inbound", "Do you deliver to Elm Street?")


def test_member_cannot_send(client, tenant_a):
    client.force_login(tenant_a.member.user)
    response = _send(client, tenant_a, "JOIN")
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_another_business_number_is_refused(client, tenant_a, tenant_b):
    client.force_login(tenant_a.owner.user)
    response = _send(client, tenant_a, "JOIN", number=tenant_b.number)
    assert response.status_code == 200
    assert "Pick one of your numbers." in response.content.decode()
    assert not Message.objects.exists() and not Subscriber.objects.exists()


def test_conversation_of_another_business_is_not_shown(client, tenant_a, tenant_b):
    text_in(from_number=PHONE, to_number=tenant_b.number.phone_number, text="Secret realty question")
    client.force_login(tenant_a.owner.user)
    for params in ({"number": tenant_b.number.pk, "phone": PHONE}, {"number": tenant_a.number.pk, "phone": PHONE}):
        assert b"Secret realty question" not in client.get(CONVERSATION, params).content
        assert b"Secret realty question" not in client.get(PAGE, params).content


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"text": ""}, "text", "Type a text, or pick one of the buttons."),
        ({"text": "x" * 1601}, "text", "at most 1,600 characters"),
        ({"phone": "not a phone"}, "phone", "not a phone number we can read"),
        ({"number": "abc"}, "number", "Pick one of your numbers."),
        ({"number": "99999999999999999999999"}, "number", "Pick one of your numbers."),
    ],
)
def test_errors_are_shown_next_to_the_field(client, tenant_a, data, field, message):
    client.force_login(tenant_a.admin.user)
    response = client.post(PAGE, {"number": tenant_a.number.pk, "phone": PHONE, "text": "hi", **data})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"number": "abc", "phone": "x"},
        {"number": "-1", "phone": PHONE},
        {"number": "9" * 40, "phone": "9" * 5000},
        {"phone": "\x00"},
        {},
    ],
)
def test_garbage_query_strings_never_fail(client, tenant_a, query):
    client.force_login(tenant_a.member.user)
    assert client.get(PAGE, query).status_code == 200
    assert client.get(CONVERSATION, query).status_code == 200


def test_wrong_public_key_explains_itself(client, tenant_a, settings):
    settings.TELNYX_PUBLIC_KEY = "c29tZSBvdGhlciBrZXk="
    client.force_login(tenant_a.admin.user)
    assert "TELNYX_PUBLIC_KEY" in client.get(PAGE).content.decode()
    response = _send(client, tenant_a, "JOIN")
    html = client.get(response["Location"]).content.decode()
    assert "Set TELNYX_PUBLIC_KEY to the demo key" in html
    assert not Subscriber.objects.exists()


def test_not_found_outside_debug(client, tenant_a, settings):
    settings.DEBUG = False
    client.force_login(tenant_a.owner.user)
    assert client.get(PAGE).status_code == 404
    assert client.get(CONVERSATION).status_code == 404
    assert _send(client, tenant_a, "JOIN").status_code == 404
    assert not Message.objects.exists()


def test_sidebar_links_it_only_in_debug(client, tenant_a, settings):
    client.force_login(tenant_a.member.user)
    assert 'href="/app/simulator/"' in client.get("/app/").content.decode()
    settings.DEBUG = False
    assert 'href="/app/simulator/"' not in client.get("/app/").content.decode()


def test_conversation_query_count_does_not_grow(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    for _ in range(2):
        text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="hello")
    params = {"number": tenant_a.number.pk, "phone": PHONE}
    client.get(CONVERSATION, params)
    with CaptureQueriesContext(connection) as few:
        client.get(CONVERSATION, params)
    for _ in range(20):
        text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="hello")
    client.get(CONVERSATION, params)
    with CaptureQueriesContext(connection) as many:
        client.get(CONVERSATION, params)
    assert len(many) == len(few)
