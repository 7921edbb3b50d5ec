"""The send path through the real telnyx SDK against the fake Telnyx server: hand-off recorded once, errors mapped,
no blind retries."""

import socket

import pytest
from django.test import TestCase

from campaigns import services
from campaigns.models import Message
from campaigns.tasks import send_message
from consent.models import ConsentEvent, Suppression
from subscribers.models import Subscriber
from tests.helpers import text_in

CONSUMER = "+12025550143"


@pytest.fixture
def subscribed(tenant_a, fake_telnyx):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    fake_telnyx.reset()
    return tenant_a


def _queue(tenant, body="Your table is ready", kind="transactional"):
    with TestCase.captureOnCommitCallbacks(execute=False):
        return services.message_queue(
            business=tenant.business, sender_number=tenant.number, phone=CONSUMER, kind=kind, body=body
        )


def test_send_posts_what_telnyx_expects(subscribed, fake_telnyx):
    subscribed.number.messaging_profile_id = "profile-123"
    subscribed.number.save()
    message = _queue(subscribed)

    services.message_send(message_id=message.pk)

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
    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert len(fake_telnyx.messages()) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_carrier_stop_error_40300_fails_the_message_and_suppresses_the_number(subscribed, fake_telnyx):
    fake_telnyx.fail(status=400, code="40300", title="Blocked due to STOP message", to=CONSUMER)
    message = _queue(subscribed)

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "40300")
    suppression = Suppression.objects.get(business=subscribed.business)
    assert suppression.reason == Suppression.Reason.CARRIER
    event = ConsentEvent.objects.filter(kind="opt_out").get()
    assert event.method == "carrier"
    assert Subscriber.objects.get(phone_number=CONSUMER).status == "unsubscribed"
    # and nothing more goes to that number
    later = _queue(subscribed, body="Another one")
    services.message_send(message_id=later.pk)
    later.refresh_from_db()
    assert later.status == Message.Status.BLOCKED
    assert len(fake_telnyx.messages()) == 1


def test_other_provider_errors_fail_the_message_with_the_reason(subscribed, fake_telnyx):
    fake_telnyx.fail(status=422, code="40310", title="Invalid 'to' address", detail="The 'to' number is invalid")
    message = _queue(subscribed)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "40310")
    assert "invalid" in message.error_detail
    assert not Suppression.objects.exists()


def test_rate_limited_send_is_retried_later_not_by_the_sdk(subscribed, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", times=1)
    message = _queue(subscribed)

    with pytest.raises(services.RetryLater):
        services.message_send(message_id=message.pk)

    assert len(fake_telnyx.state.requests) == 1  # the SDK itself did not retry
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED  # untouched: the provider did not take it

    services.message_send(message_id=message.pk)  # the task's later retry
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(fake_telnyx.messages()) == 2


def test_task_retries_a_rate_limited_send_until_it_goes(subscribed, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", times=2)
    message = _queue(subscribed)
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(fake_telnyx.state.requests) == 3


def test_task_gives_up_after_its_retries_and_marks_the_message_failed(subscribed, fake_telnyx):
    fake_telnyx.fail(status=429, code="10011", title="Too many requests", times=None)
    message = _queue(subscribed)
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "retries")
    assert len(fake_telnyx.state.requests) == send_message.max_retries + 1


def test_server_error_is_an_uncertain_hand_off_and_is_never_repeated(subscribed, fake_telnyx):
    fake_telnyx.fail(status=500, code="10001", title="Internal error")
    message = _queue(subscribed)
    send_message.apply(args=[message.pk])
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "unknown")
    assert len(fake_telnyx.state.requests) == 1


def test_connection_refused_is_retryable(subscribed, settings):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.TELNYX_BASE_URL = f"http://127.0.0.1:{port}/v2"
    message = _queue(subscribed)
    with pytest.raises(services.RetryLater):
        services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED


def test_timeout_is_not_retried(subscribed, settings):
    """A server that accepts the connection and never answers: the message may have gone, so it is not resent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        settings.TELNYX_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/v2"
        settings.TELNYX_TIMEOUT_SECONDS = 0.5
        message = _queue(subscribed)
        services.message_send(message_id=message.pk)
        message.refresh_from_db()
        assert (message.status, message.error_code) == (Message.Status.FAILED, "unknown")
    finally:
        listener.close()


def test_delivery_reports_move_the_message_forward_only(subscribed, fake_telnyx):
    from nextalerts.fakes import signing
    from tests.helpers import post_webhook

    message = _queue(subscribed)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    delivered = signing.message_finalized(provider_message_id=message.provider_message_id, to_number=CONSUMER)
    assert post_webhook(delivered).json()["status"] == "delivery-delivered"
    sent_late = signing.message_finalized(
        provider_message_id=message.provider_message_id, to_number=CONSUMER, status="sent"
    )
    post_webhook(sent_late)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_delivery_failure_40300_suppresses(subscribed, fake_telnyx):
    from nextalerts.fakes import signing
    from tests.helpers import post_webhook

    message = _queue(subscribed)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    report = signing.message_finalized(
        provider_message_id=message.provider_message_id,
        to_number=CONSUMER,
        status="delivery_failed",
        error_code="40300",
    )
    assert post_webhook(report).status_code == 200
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "40300")
    assert Suppression.objects.get().reason == Suppression.Reason.CARRIER


def test_broker_outage_keeps_the_webhook_answer_and_the_sweeper_sends_later(tenant_a, fake_telnyx, monkeypatch):
    """The opt-in is committed and answered 2xx even when the reply cannot be queued; the sweeper sends it later."""
    from datetime import timedelta

    from campaigns.tasks import send_message

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(send_message, "delay", broker_down)
    response = text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    assert response.status_code == 200
    reply = Message.objects.get(kind=Message.Kind.OPT_IN_CONFIRMATION)
    assert reply.status == Message.Status.QUEUED
    assert fake_telnyx.messages() == []

    monkeypatch.undo()
    assert services.messages_requeue_stale(older_than=timedelta(minutes=2)) == {"requeued": 0}  # too recent
    assert services.messages_requeue_stale(older_than=timedelta(0)) == {"requeued": 1}
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    assert len(fake_telnyx.messages()) == 1
