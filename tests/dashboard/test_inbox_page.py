"""The inbox: ordinary texts only, grouped by sender, and replies that go through consent like every other send."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.backends import locmem
from messaging.models import Message
from subscribers.models import Subscriber
from tests.helpers import text_in

INBOX = reverse("dashboard:inbox")
REPLY = reverse("dashboard:inbox-reply")


def say(tenant, phone, text):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


def outbound(tenant, phone):
    return Message.objects.filter(
        business=tenant.business, phone_number=phone, direction="outbound", kind=Message.Kind.CONVERSATION
    )


def test_inbox_shows_ordinary_texts_not_keywords_stop_or_help(client, tenant_a):
    say(tenant_a, "+12025550143", "JOIN")
    say(tenant_a, "+12025550143", "Do you deliver to 5th street?")
    say(tenant_a, "+12025550143", "HELP")
    say(tenant_a, "+13105559876", "who is this")
    client.force_login(tenant_a.member.user)
    response = client.get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Inbox</h1>" in html
    assert "Do you deliver to 5th street?" in html and "who is this" in html
    assert '<p class="message-body">JOIN' not in html and '<p class="message-body">HELP' not in html
    # A subscriber links to their page; a stranger is marked as such.
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number="+12025550143")
    assert reverse("dashboard:subscriber", args=[subscriber.pk]) in html
    assert "Not a subscriber" in html
    # Members read; the reply box is for admins.
    assert "Send reply" not in html


def test_inbox_shows_only_the_current_business(client, tenant_a, tenant_b):
    say(tenant_a, "+12025550143", "hello a")
    say(tenant_b, "+12025550143", "hello b")
    client.force_login(tenant_a.member.user)
    html = client.get(INBOX).content.decode()
    assert "hello a" in html and "hello b" not in html


def test_admin_reply_to_a_subscriber_is_sent(client, tenant_a, django_capture_on_commit_callbacks):
    say(tenant_a, "+12025550143", "JOIN")
    say(tenant_a, "+12025550143", "Are you open?")
    locmem.outbox.clear()
    client.force_login(tenant_a.admin.user)
    assert "Send reply" in client.get(INBOX).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            REPLY, {"phone": "+12025550143", "body": "Yes, until 10pm!", "number": tenant_a.number.pk, "page": 1}
        )
    assert response.status_code == 302
    assert [sms.text for sms in locmem.outbox] == ["Yes, until 10pm!"]
    assert locmem.outbox[0].to_number == "+12025550143"
    assert "is on its way" in client.get(response["Location"]).content.decode()


def test_reply_through_telnyx(client, tenant_a, fake_telnyx, django_capture_on_commit_callbacks):
    say(tenant_a, "+12025550143", "JOIN")
    say(tenant_a, "+12025550143", "Are you open?")
    client.force_login(tenant_a.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REPLY, {"phone": "+12025550143", "body": "Open now"})
    assert outbound(tenant_a, "+12025550143").get().status == Message.Status.SENT


def test_reply_to_a_suppressed_number_shows_why_and_sends_nothing(client, tenant_a, django_capture_on_commit_callbacks):
    say(tenant_a, "+12025550143", "JOIN")
    say(tenant_a, "+12025550143", "stop texting me please, ok?")
    say(tenant_a, "+12025550143", "STOP")
    say(tenant_a, "+12025550143", "why did you text me")
    locmem.outbox.clear()
    client.force_login(tenant_a.admin.user)
    assert "A reply will not be sent" in client.get(INBOX).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPLY, {"phone": "+12025550143", "body": "Sorry!", "page": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not sent:" in html and "suppressed" in html
    assert "Sorry!" in html  # the reply is kept in its box
    assert locmem.outbox == []
    assert not outbound(tenant_a, "+12025550143").exists()


def test_a_reply_reaches_someone_who_texted_without_joining(client, tenant_a, django_capture_on_commit_callbacks):
    """They started the conversation: a reply needs no subscription, only a number that has not opted out."""
    say(tenant_a, "+12025550143", "hi there, are you open sunday?")
    locmem.outbox.clear()
    client.force_login(tenant_a.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPLY, {"phone": "+12025550143", "body": "Yes, 11 to 9"})
    assert response.status_code == 302
    assert [(sms.to_number, sms.text) for sms in locmem.outbox] == [("+12025550143", "Yes, 11 to 9")]
    assert outbound(tenant_a, "+12025550143").get().sender_number == tenant_a.number


def test_no_reply_to_a_number_that_never_texted(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(REPLY, {"phone": "+12025550199", "body": "Hello"})
    assert response.status_code == 200
    assert "only people who texted you can get a reply" in response.content.decode()
    assert not Message.objects.filter(direction="outbound").exists()


def test_member_cannot_reply(client, tenant_a):
    say(tenant_a, "+12025550143", "JOIN")
    client.force_login(tenant_a.member.user)
    response = client.post(REPLY, {"phone": "+12025550143", "body": "Hello"})
    assert response.status_code == 403
    assert not outbound(tenant_a, "+12025550143").exists()


def test_reply_cannot_send_from_another_business_number(client, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    say(tenant_a, "+12025550143", "JOIN")
    locmem.outbox.clear()
    client.force_login(tenant_a.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REPLY, {"phone": "+12025550143", "body": "Hi", "number": tenant_b.number.pk})
    assert [sms.from_number for sms in locmem.outbox] == [tenant_a.number.phone_number]


def test_reply_cannot_reach_another_business_subscriber(client, tenant_a, tenant_b):
    say(tenant_b, "+12025550143", "JOIN")
    client.force_login(tenant_a.admin.user)
    response = client.post(REPLY, {"phone": "+12025550143", "body": "Hi"})
    assert response.status_code == 200 and "only people who texted you" in response.content.decode()
    assert not Message.objects.filter(business=tenant_a.business, direction="outbound").exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"phone": "+12025550143"},
        {"phone": "+12025550143", "body": "   "},
        {"phone": "+12025550143", "body": "x" * 5000},
        {"phone": "not a phone", "body": "hi"},
        {"phone": "9" * 500, "body": "hi"},
        {"phone": "+12025550143", "body": "hi", "number": "abc"},
        {"phone": "+12025550143", "body": "hi", "number": "99999999999999999999"},
        {"phone": "+12025550143", "body": "hi", "page": "-3"},
        {"phone": "+12025550143", "body": "a\x00b"},
    ],
)
def test_garbage_replies_never_fail(client, tenant_a, data):
    say(tenant_a, "+12025550143", "hello")
    client.force_login(tenant_a.admin.user)
    response = client.post(REPLY, data)
    assert response.status_code == 200
    assert "not sent" in response.content.decode().lower() or "error" in response.content.decode()
    assert not Message.objects.filter(kind=Message.Kind.TRANSACTIONAL).exists()


def test_empty_reply_error_is_next_to_the_box(client, tenant_a):
    say(tenant_a, "+12025550143", "hello")
    client.force_login(tenant_a.admin.user)
    html = client.post(REPLY, {"phone": "+12025550143", "body": ""}).content.decode()
    assert "Write your reply first." in html
    box = html.index('name="phone" value="+12025550143"')
    assert box < html.index("Write your reply first.")


def test_get_on_reply_goes_back_to_the_inbox(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    assert client.get(REPLY).status_code == 302


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999"])
def test_garbage_page_numbers(client, tenant_a, page):
    say(tenant_a, "+12025550143", "hello")
    client.force_login(tenant_a.member.user)
    assert client.get(INBOX, {"page": page}).status_code == 200


def _inbox_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX)
    assert response.status_code == 200
    return len(queries)


def test_inbox_query_count_does_not_grow_with_rows(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    for n in range(3):
        say(tenant_a, f"+1202555{n:04d}", "JOIN")
        say(tenant_a, f"+1202555{n:04d}", f"question {n}")
    few = _inbox_queries(client)
    for n in range(3, 30):
        if n % 2:
            say(tenant_a, f"+1202555{n:04d}", "JOIN")
        say(tenant_a, f"+1202555{n:04d}", f"question {n}")
    assert _inbox_queries(client) == few
