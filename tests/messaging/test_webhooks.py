"""POST /webhooks/telnyx/: signatures, storing each event once, and answers that never 500."""

import threading
import time

import pytest
from django.db import connection

from consent.models import ConsentEvent, Suppression
from devtools.fakes import signing
from messaging.backends import locmem
from messaging.models import Message, WebhookEvent
from tests.helpers import post_webhook

CONSUMER = "+12025550143"


def _stop(tenant, **kw):
    return signing.message_received(from_number=CONSUMER, to_number=tenant.number.phone_number, text="STOP", **kw)


def _nothing_recorded():
    return not WebhookEvent.objects.exists() and not ConsentEvent.objects.exists() and not Message.objects.exists()


def test_signed_event_is_accepted_and_stored(tenant_a):
    event = _stop(tenant_a)
    response = post_webhook(event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.event_id == event["data"]["id"]
    assert stored.payload == event
    assert stored.outcome == "opt_out"
    assert stored.business == tenant_a.business


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned"),
        pytest.param({"HTTP_TELNYX_TIMESTAMP": str(int(time.time()))}, id="no-signature"),
        pytest.param({"HTTP_TELNYX_SIGNATURE_ED25519": "AAAA"}, id="no-timestamp"),
        pytest.param({"HTTP_TELNYX_SIGNATURE_ED25519": "not base64!", "HTTP_TELNYX_TIMESTAMP": "1"}, id="garbage"),
    ],
)
def test_unsigned_or_partly_signed_webhook_is_refused(tenant_a, headers):
    response = post_webhook(_stop(tenant_a), headers=headers)
    assert response.status_code == 403
    assert "error" in response.json()
    assert _nothing_recorded()


def test_forged_signature_is_refused(tenant_a):
    from nacl.signing import SigningKey

    body = signing.dumps(_stop(tenant_a))
    forged = signing.sign(body, key=SigningKey.generate())
    assert post_webhook(None, body=body, headers=forged).status_code == 403
    assert _nothing_recorded()


def test_signature_over_a_different_body_is_refused(tenant_a):
    headers = signing.sign(signing.dumps(_stop(tenant_a)))
    tampered = signing.dumps(_stop(tenant_a))  # same shape, another event id: the signature no longer matches
    assert post_webhook(None, body=tampered, headers=headers).status_code == 403
    assert _nothing_recorded()


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_stale_or_future_timestamp_is_refused(tenant_a, age):
    body = signing.dumps(_stop(tenant_a))
    headers = signing.sign(body, timestamp=int(time.time()) - age)
    assert post_webhook(None, body=body, headers=headers).status_code == 403
    assert _nothing_recorded()


def test_same_event_delivered_three_times_is_handled_once(tenant_a):
    event = _stop(tenant_a)
    answers = [post_webhook(event) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["opt_out", "duplicate", "duplicate"]
    assert WebhookEvent.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert Suppression.objects.count() == 1
    assert len(locmem.outbox) == 1


def test_same_message_in_two_different_events_records_one_consent_event(tenant_a):
    """Telnyx may redeliver a message under a new event id: the message id keeps the ledger from doubling."""
    first = _stop(tenant_a, message_id="msg-1")
    second = _stop(tenant_a, message_id="msg-1")
    assert post_webhook(first).status_code == 200
    assert post_webhook(second).status_code == 200
    assert ConsentEvent.objects.count() == 1
    assert len(locmem.outbox) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json at all", 400),
        ("", 400),
        ("[]", 400),
        ('{"data": "x"}', 400),
        ('{"data": {"id": 5, "event_type": "message.received"}}', 400),
        ('{"data": {"id": "e1", "event_type": "message.received", "payload": "nope"}}', 400),
        ('{"data": {"id": "e2", "event_type": "message.received", "payload": {"id": "m"}}}', 400),
    ],
)
def test_malformed_signed_body_is_a_clean_4xx(tenant_a, body, status):
    response = post_webhook(None, body=body, headers=signing.sign(body))
    assert response.status_code == status
    assert response.json()["error"]
    assert not ConsentEvent.objects.exists()


def test_non_utf8_body_is_refused():
    body = b"\xff\xfe\x00"
    from django.test import Client

    response = Client().post("/webhooks/telnyx/", data=body, content_type="application/json")
    assert response.status_code == 400


def test_unknown_event_type_is_stored_and_acknowledged_without_effect(tenant_a):
    event = {"data": {"id": "evt-unknown", "event_type": "call.initiated", "payload": {"x": 1}}}
    response = post_webhook(event)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored"
    assert not ConsentEvent.objects.exists()


def test_text_to_a_number_no_business_owns_is_acknowledged_and_logged(tenant_a, caplog):
    event = signing.message_received(from_number=CONSUMER, to_number="+13055550100", text="STOP")
    response = post_webhook(event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.outcome == "unknown-number" and stored.business is None
    assert not ConsentEvent.objects.exists() and not Suppression.objects.exists()
    assert "sms.inbound.unknown-number" in caplog.text


def test_get_is_not_allowed():
    from django.test import Client

    assert Client().get("/webhooks/telnyx/").status_code == 405


def test_without_a_configured_public_key_the_provider_is_asked_to_retry(tenant_a, settings):
    settings.TELNYX_PUBLIC_KEY = ""
    response = post_webhook(_stop(tenant_a))
    assert response.status_code == 503
    assert _nothing_recorded()


def test_a_delivery_report_is_stored_and_applied_after_the_answer(tenant_a, monkeypatch):
    """Reports wait in the event table until a worker applies them; the answer does not wait for that. A web process
    asks for a batch at most once a second, however many reports arrive."""
    from messaging import tasks, webhooks
    from messaging.webhooks import delivery_reports_apply_pending
    from nextalerts import celery_app

    celery_app.conf.task_always_eager = False  # (the autouse fixture sets it back)
    monkeypatch.setattr(webhooks, "_reports_scheduled_at", None)
    requested = []
    monkeypatch.setattr(tasks.apply_delivery_reports, "apply_async", lambda **options: requested.append(options))
    report = signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER)
    response = post_webhook(report)
    assert (response.status_code, response.json()["status"]) == (202, "accepted")
    assert WebhookEvent.objects.get().outcome == "pending"
    assert post_webhook(report).status_code == 202  # a redelivery: stored once
    assert WebhookEvent.objects.count() == 1
    assert requested == [{"countdown": 1}]  # the second report came within the second: no second request

    assert delivery_reports_apply_pending() == {"applied": 1, "remaining": False}
    assert WebhookEvent.objects.get().outcome == "unknown-message"
    assert delivery_reports_apply_pending() == {"applied": 0, "remaining": False}


@pytest.mark.parametrize(
    "event",
    [
        signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER, event_id="e" * 101),
        {"data": {"id": "e-long-type", "event_type": "message." + "x" * 60, "payload": {}}},
    ],
    ids=["event id", "event type"],
)
def test_an_over_long_event_id_or_type_is_a_clean_4xx(tenant_a, event):
    response = post_webhook(event)
    assert response.status_code == 400
    assert "too long" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("kind", ["delivery report", "inbound text"])
def test_a_nul_character_in_a_signed_body_is_stored_without_an_error(tenant_a, kind):
    """JSON may escape a NUL (\\u0000), which PostgreSQL's JSON type refuses: the event is still stored and answered."""
    if kind == "delivery report":
        event = signing.message_finalized(provider_message_id="out-\x00-1", to_number=CONSUMER)
    else:
        event = signing.message_received(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="Hi\x00")
    response = post_webhook(event)
    assert response.status_code in (200, 202), response.content
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends the web process's session from a second one")
def test_a_delivery_report_on_a_connection_the_database_dropped_is_stored_on_a_new_one(tenant_a, caplog):
    """The report's INSERT is its own connection check: a database restart between two requests costs no failure."""
    assert post_webhook(signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER)).status_code == 202
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ended = []

    def end_session():  # from a thread of its own: its own connection
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                ended.append(cursor.fetchone()[0])
        finally:
            connection.close()

    thread = threading.Thread(target=end_session)
    thread.start()
    thread.join(timeout=30)
    assert ended == [True]

    response = post_webhook(signing.message_finalized(provider_message_id="out-2", to_number=CONSUMER))
    assert response.status_code == 202
    assert "sms.webhook.reconnected" in caplog.messages
    assert WebhookEvent.objects.filter(event_type="message.finalized").count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends the web process's session from a second one")
@pytest.mark.parametrize("sessions_ended", [1, 2])
def test_a_stop_whose_database_session_is_ended_mid_request(tenant_a, caplog, sessions_ended):
    """A failover while a STOP is being handled: the webhook handles it again on a new connection and answers 2xx,
    instead of a 500 and waiting for Telnyx's redelivery; if the new one is lost as well, a 503 says to deliver it
    again, and nothing was recorded. The STOP waits for a phone lock held elsewhere (as a send in progress holds
    it), and its session is ended while it waits."""
    from consent.locks import _key
    from nextalerts.phones import phone_hash
    from tests.helpers import answers_with_sessions_ended

    business = tenant_a.business
    answers = answers_with_sessions_ended(
        lambda: post_webhook(_stop(tenant_a)), lock_sql="SELECT pg_advisory_xact_lock(%s)",
        params=[_key(business.pk, phone_hash(CONSUMER))], sessions_ended=sessions_ended,
    )  # fmt: skip

    assert "sms.webhook.reconnected" in caplog.messages
    if sessions_ended == 1:
        assert [getattr(a, "status_code", a) for a in answers] == [200]
        assert Suppression.objects.filter(business=business, phone_number=CONSUMER).exists()
        assert WebhookEvent.objects.filter(event_type="message.received").count() == 1
    else:
        [answer] = answers
        assert (answer.status_code, answer["Retry-After"]) == (503, "5")
        assert "deliver it again" in answer.json()["error"]
        assert not Suppression.objects.exists() and not WebhookEvent.objects.exists()
