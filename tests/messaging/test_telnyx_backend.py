"""The send path through the real telnyx SDK against the fake Telnyx server: hand-off recorded once, errors mapped,
no blind retries."""

import socket
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from consent.models import ConsentEvent, Suppression
from devtools.fakes import signing
from messaging import services as messaging_services
from messaging.models import Message
from messaging.tasks import send_messages, send_replies
from subscribers.models import Subscriber
from tests.helpers import post_webhook, text_in

CONSUMER = "+12025550143"


@pytest.fixture
def subscribed(tenant_a, fake_telnyx):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    fake_telnyx.reset()
    return tenant_a


def _queue(tenant, body="Your table is ready", kind="transactional"):
    with TestCase.captureOnCommitCallbacks(execute=False):
        return messaging_services.message_queue(
            business=tenant.business, sender_number=tenant.number, phone=CONSUMER, kind=kind, body=body
        )


def _later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def test_send_posts_what_telnyx_expects(subscribed, fake_telnyx):
    subscribed.number.messaging_profile_id = "profile-123"
    subscribed.number.save()
    message = _queue(subscribed)

    messaging_services.message_send(message_id=message.pk)

    [request] = fake_telnyx.state.requests
    assert request.headers["Authorization"] == "Bearer KEY_TEST"
    assert request.body["from"] == subscribed.number.phone_number
    assert request.body["to"] == CONSUMER
    assert request.body["text"] == "Your table is ready"
    assert request.body["messaging_profile_id"] == "profile-123"
    # our own message id travels as the idempotency key, where Telnyx honours one
    assert request.headers["Idempotency-Key"] == f"nextalerts-message-{message.pk}"
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.provider_message_id and message.sent_at is not None


def test_a_task_that_runs_twice_sends_once(subscribed, fake_telnyx):
    message = _queue(subscribed)
    assert send_messages.apply(args=[[message.pk]]).get() == {"sent": 1}
    assert send_messages.apply(args=[[message.pk]]).get() == {}  # nothing left to hand over
    assert len(fake_telnyx.messages()) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_carrier_stop_error_40300_blocks_the_message_and_suppresses_the_number(subscribed, fake_telnyx):
    fake_telnyx.fail(status=400, code="40300", title="Blocked due to STOP message", to=CONSUMER)
    message = _queue(subscribed)

    messaging_services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.BLOCKED, "40300")
    suppression = Suppression.objects.get(business=subscribed.business)
    assert suppression.reason == Suppression.Reason.CARRIER
    event = ConsentEvent.objects.filter(kind="opt_out").get()
    assert event.method == "carrier"
    assert Subscriber.objects.get(phone_number=CONSUMER).status == "unsubscribed"
    # and nothing more goes to that number
    later = _queue(subscribed, body="Another one")
    messaging_services.message_send(message_id=later.pk)
    later.refresh_from_db()
    assert later.status == Message.Status.BLOCKED
    assert len(fake_telnyx.messages()) == 1


@pytest.mark.parametrize(
    ("code", "title"),
    [("40310", "Invalid 'to' address"), ("10002", "Invalid phone number"), ("40001", "Not routable (landline)")],
)
def test_invalid_or_landline_numbers_fail_the_message_with_the_reason(subscribed, fake_telnyx, code, title):
    fake_telnyx.fail(status=422, code=code, title=title)
    message = _queue(subscribed)
    messaging_services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_detail) == (Message.Status.FAILED, code, title)
    assert not Suppression.objects.exists()


def test_rate_limited_send_waits_for_retry_after_and_the_sdk_does_not_retry(subscribed, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", retry_after=30)
    message = _queue(subscribed)

    messaging_services.message_send(message_id=message.pk)

    assert len(fake_telnyx.state.requests) == 1  # the SDK itself did not retry
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED  # the provider did not take it
    assert message.send_after >= _later(29)

    messaging_services.message_send(message_id=message.pk)  # too early: nothing happens
    assert len(fake_telnyx.state.requests) == 1

    messaging_services.message_send(message_id=message.pk, now=_later(31))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(fake_telnyx.messages()) == 2


def test_the_dispatcher_sends_a_rate_limited_message_once_it_is_due(subscribed, fake_telnyx, time_machine):
    time_machine.move_to(timezone.now(), tick=True)
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", retry_after=5)
    message = _queue(subscribed)
    messaging_services.message_send(message_id=message.pk)

    assert messaging_services.messages_dispatch_due() == {"dispatched": 0}  # not due yet
    time_machine.shift(timedelta(seconds=60))
    assert messaging_services.messages_dispatch_due() == {"dispatched": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_a_message_the_provider_keeps_refusing_is_failed_in_the_end(subscribed, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", times=None)
    message = _queue(subscribed)
    for _ in range(messaging_services.MAX_SEND_ATTEMPTS):
        messaging_services.message_send(message_id=message.pk, now=_later(3600))
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "10011")
    assert len(fake_telnyx.state.requests) == messaging_services.MAX_SEND_ATTEMPTS


def test_server_error_is_an_uncertain_hand_off_and_is_never_repeated(subscribed, fake_telnyx):
    fake_telnyx.fail(status=500, code="10001", title="Internal error")
    message = _queue(subscribed)
    send_messages.apply(args=[[message.pk]])
    messaging_services.messages_dispatch_due(now=_later(3600))
    send_messages.apply(args=[[message.pk]])
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.SENDING, "unknown")
    assert len(fake_telnyx.state.requests) == 1


def test_an_uncertain_hand_off_is_reconciled_by_its_delivery_report(subscribed, fake_telnyx):
    fake_telnyx.fail(status=500, code="10001", title="Internal error")
    message = _queue(subscribed, body="See you at 5")
    messaging_services.message_send(message_id=message.pk)

    report = signing.message_finalized(provider_message_id="tx-abc", to_number=CONSUMER)
    report["data"]["payload"]["from"] = {"phone_number": subscribed.number.phone_number}
    report["data"]["payload"]["text"] = "See you at 5"
    assert post_webhook(report).status_code == 202
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Message.Status.DELIVERED, "tx-abc")


def test_uncertain_hand_offs_without_a_report_are_failed_after_three_days(subscribed, fake_telnyx):
    fake_telnyx.fail(status=500, code="10001", title="Internal error")
    message = _queue(subscribed)
    messaging_services.message_send(message_id=message.pk)
    assert messaging_services.messages_expire_uncertain() == {"expired": 0}
    assert messaging_services.messages_expire_uncertain(now=_later(4 * 86400)) == {"expired": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert len(fake_telnyx.state.requests) == 1


def test_connection_refused_is_retried_later(subscribed, settings):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.TELNYX_BASE_URL = f"http://127.0.0.1:{port}/v2"
    message = _queue(subscribed)
    messaging_services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.QUEUED, "connect")
    assert message.send_after > timezone.now()


def test_timeout_is_not_retried(subscribed, settings):
    """A server that accepts the connection and never answers: the message may have gone, so it is not resent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        settings.TELNYX_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/v2"
        settings.TELNYX_TIMEOUT_SECONDS = 0.5
        message = _queue(subscribed)
        messaging_services.message_send(message_id=message.pk)
        message.refresh_from_db()
        assert (message.status, message.error_code) == (Message.Status.SENDING, "unknown")
        messaging_services.messages_dispatch_due(now=_later(3600))
        message.refresh_from_db()
        assert message.status == Message.Status.SENDING
    finally:
        listener.close()


def test_broker_outage_keeps_the_webhook_answer_and_the_dispatcher_sends_later(
    tenant_a, fake_telnyx, monkeypatch, time_machine
):
    """The opt-in is committed and answered 2xx even when the reply cannot be queued; the dispatcher sends it."""

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(send_messages, "delay", broker_down)
    monkeypatch.setattr(send_replies, "delay", broker_down)  # the reply's own queue, on the same broker
    response = text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    assert response.status_code == 200
    reply = Message.objects.get(kind=Message.Kind.OPT_IN_CONFIRMATION)
    assert reply.status == Message.Status.QUEUED
    assert fake_telnyx.messages() == []

    monkeypatch.undo()
    assert messaging_services.messages_dispatch_due() == {"dispatched": 0}  # its task may still be on its way
    time_machine.move_to(_later(600), tick=True)
    assert messaging_services.messages_dispatch_due() == {"dispatched": 1}
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    assert len(fake_telnyx.messages()) == 1
