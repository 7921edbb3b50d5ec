"""The send path under faults: a worker whose database session is ended mid-chunk hands nothing more over, and the
claims of a worker that died are sent once by another, or, when their hand-off had begun, reconciled, never resent."""

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection

from campaigns import services
from campaigns.models import Campaign
from consent.locks import _key
from devtools.fakes import signing
from messaging import services as messaging_services
from messaging.models import Message, WebhookEvent
from nextalerts.phones import phone_hash
from subscribers.models import Subscriber
from tests.helpers import database_url, post_webhook, tasks_held, text_in, wait_for

CONSUMER = "+12025550143"
# 17:00 UTC on a winter weekday: 12:00 in New York, inside every quiet-hours window of the numbers used here.
NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
BODY = "Flash sale"

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fault needs PostgreSQL's advisory locks and a second session"
)


def _campaign_messages(tenant, phones):
    for phone in phones:
        text_in(from_number=phone, to_number=tenant.number.phone_number, text="JOIN")
    campaign = services.campaign_create(business=tenant.business, name="Fault", body=BODY, sender_number=tenant.number)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    with tasks_held():  # the test decides who sends, not the launch's own tasks
        services.campaign_fan_out(campaign_id=campaign.pk, now=NOON_NY)
    return campaign


def _campaign_texts(fake):
    return [r for r in fake.state.requests if r.body.get("text") == BODY]


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_worker_whose_session_is_ended_mid_chunk_hands_nothing_more_over(tenant_a, fake_telnyx):
    phones = [f"+1212555{n:04d}" for n in range(300, 310)]
    tenant_a.number.messages_per_second = 10  # one chunk of ten, under one set of locks
    tenant_a.number.save()
    campaign = _campaign_messages(tenant_a, phones)
    fake_telnyx.reset()
    fake_telnyx.state.latency = 0.3  # each hand-off takes a while: the session can be ended in the middle of one
    ids = list(campaign.messages.order_by("id").values_list("pk", flat=True))

    def worker():
        try:
            messaging_services.messages_send(message_ids=ids, now=NOON_NY)
        finally:
            connection.close()

    held = tasks_held()  # what the worker queues again is recorded, not run
    queued = held.__enter__()
    thread = threading.Thread(target=worker)
    thread.start()
    assert wait_for(lambda: len(_campaign_texts(fake_telnyx)) >= 2, timeout=20)
    with connection.cursor() as cursor:  # a second session ends the worker's, as a failover would
        cursor.execute(
            "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        [(worker_pid,)] = cursor.fetchall()
        cursor.execute("SELECT pg_terminate_backend(%s)", [worker_pid])
    handed_over = len(_campaign_texts(fake_telnyx))  # the last of them is still in flight
    texted = {r.body["to"] for r in _campaign_texts(fake_telnyx)}
    acknowledged = {}
    for phone in [p for p in phones if p not in texted][:3]:
        # The locks died with the session: these STOPs no longer wait for the chunk.
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="STOP")
        acknowledged[phone] = time.time()  # as the fake records arrivals
    thread.join(timeout=30)
    held.__exit__(None, None, None)
    assert not thread.is_alive()

    after = _campaign_texts(fake_telnyx)
    assert len(after) <= handed_over + 1, "the worker went on handing over after its session was ended"
    late = [r.body["to"] for r in after if r.body["to"] in acknowledged and r.received_at > acknowledged[r.body["to"]]]
    assert late == [], "campaign texts reached Telnyx after a STOP that was acknowledged once the session died"
    statuses = dict(campaign.messages.values_list("phone_number", "status"))
    rest = [p for p in phones if p not in {r.body["to"] for r in after}]
    assert rest and all(statuses[p] == Message.Status.QUEUED for p in rest), statuses  # for another attempt
    assert all(statuses[r.body["to"]] == Message.Status.SENT for r in after)
    # Queued again at once, through the new session, rather than left for the dispatcher's next round.
    rest_ids = set(campaign.messages.filter(phone_number__in=rest).values_list("pk", flat=True))
    again = [args[0] for name, args, _eta in queued if name == "messaging.send_messages"]
    assert again and set().union(*again) == rest_ids, queued

    # The next attempt checks consent again: the STOPped numbers are blocked, the others sent once.
    messaging_services.messages_send(message_ids=ids, now=NOON_NY)
    statuses = dict(campaign.messages.values_list("phone_number", "status"))
    assert all(statuses[p] == Message.Status.BLOCKED for p in acknowledged)
    tos = [r.body["to"] for r in _campaign_texts(fake_telnyx)]
    assert sorted(tos) == sorted(p for p in phones if p not in acknowledged)


def _reply(tenant, phone=CONSUMER):
    """A queued reply (as a STOP's confirmation is) to a subscriber, not yet handed to a worker."""
    return Message.objects.create(
        business=tenant.business, direction=Message.Direction.OUTBOUND, kind=Message.Kind.OPT_OUT_CONFIRMATION,
        sender_number=tenant.number, phone_number=phone, phone_hash=phone_hash(phone), status=Message.Status.QUEUED,
        body="You're unsubscribed. Reply START to resubscribe.", dispatched_at=NOON_NY,
    )  # fmt: skip


def _holds_locks(pid) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory')", [pid])
        return cursor.fetchone()[0]


def _end_session(pid):
    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_send_task_whose_session_was_cut_before_it_claimed_tries_again_at_once(tenant_a, fake_telnyx):
    """A failover between two tasks: the worker's connection is dead before the claim. The task runs again on a new
    connection a moment later (not when the dispatcher finds the message stale, minutes later)."""
    from messaging.tasks import send_replies

    message = _reply(tenant_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    _end_session(pid)

    send_replies.delay([message.pk])  # run here (eager), as a worker would, retries included
    connection.close()  # whatever it left, the checks below read through a new session

    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 1)
    assert [m["to"] for m in fake_telnyx.messages()] == [CONSUMER]


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_hand_off_whose_session_died_in_flight_is_recorded_through_a_new_one(tenant_a, fake_telnyx):
    """The session ends while the provider is taking the message: the provider took it, and the outcome is written
    through a new session, so the message is sent (not left "sending" for the stale-claim recovery to settle)."""
    message = _reply(tenant_a)
    fake_telnyx.state.latency = 0.5
    errors = []

    def worker():
        try:
            messaging_services.messages_send(message_ids=[message.pk], now=NOON_NY)
        except Exception as exc:  # the test reports it below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert wait_for(lambda: len(fake_telnyx.messages()) == 1, timeout=20)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        [(worker_pid,)] = cursor.fetchall()
    _end_session(worker_pid)
    thread.join(timeout=30)

    assert errors == []
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.provider_message_id
    assert len(fake_telnyx.messages()) == 1


# --- recovery of a dead worker's claims -------------------------------------------------------------------------------


@pytest.fixture
def subscribed(tenant_a, fake_telnyx):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    Subscriber.objects.filter(phone_number=CONSUMER).update(quiet_profile="0-24@UTC")
    fake_telnyx.reset()
    return tenant_a


@pytest.fixture
def stale(settings, time_machine):
    """Claims count as stale after a minute; the clock stands at NOON_NY."""
    settings.SEND_STALE_SECONDS = 60
    time_machine.move_to(NOON_NY, tick=False)


def _claimed_by_a_dead_worker(tenant, *, started):
    """A campaign message as a worker killed mid-chunk leaves it: claimed ("sending"), its hand-off begun or not."""
    campaign = services.campaign_create(business=tenant.business, name="Fault", body=BODY, sender_number=tenant.number)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING, launched_at=NOON_NY)
    message = Message.objects.create(
        business=tenant.business, direction=Message.Direction.OUTBOUND, kind=Message.Kind.MARKETING,
        sender_number=tenant.number, phone_number=CONSUMER, phone_hash=phone_hash(CONSUMER), body=BODY,
        campaign=campaign, status=Message.Status.SENDING, attempts=1, dispatched_at=NOON_NY,
        handoff_started_at=NOON_NY if started else None,
    )  # fmt: skip
    return campaign, message


def test_a_claim_whose_worker_died_before_its_hand_off_is_sent_once_by_the_dispatcher(subscribed, fake_telnyx, stale):
    campaign, message = _claimed_by_a_dead_worker(subscribed, started=False)

    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=30)) == {
        "dispatched": 0
    }  # may be alive
    assert fake_telnyx.messages() == []
    result = messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=61))
    assert result == {"dispatched": 1, "requeued": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.attempts == 2
    assert [m["to"] for m in fake_telnyx.messages()] == [CONSUMER]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT

    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=600)) == {"dispatched": 0}
    assert len(fake_telnyx.messages()) == 1


def test_a_claim_whose_hand_off_began_is_never_resent_but_settled_by_its_report(subscribed, fake_telnyx, stale):
    campaign, message = _claimed_by_a_dead_worker(subscribed, started=True)

    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=61)) == {
        "dispatched": 0,
        "uncertain": 1,
    }
    assert fake_telnyx.messages() == []  # it may have gone: never resent blindly
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.SENDING, "unknown")
    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=600)) == {"dispatched": 0}

    report = signing.message_finalized(provider_message_id="tx-dead-worker", to_number=CONSUMER)
    report["data"]["payload"]["from"] = {"phone_number": subscribed.number.phone_number}
    report["data"]["payload"]["text"] = BODY
    assert post_webhook(report).status_code == 202
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Message.Status.DELIVERED, "tx-dead-worker")
    assert (message.error_code, message.error_detail) == ("", "")  # no longer in doubt
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert fake_telnyx.messages() == []


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_slow_live_worker_keeps_its_claim(subscribed, fake_telnyx, stale):
    """However long a worker takes, it holds its messages' phone locks: the dispatcher does not take them back."""
    _campaign, message = _claimed_by_a_dead_worker(subscribed, started=False)
    with psycopg.connect(database_url(), autocommit=True) as live_worker:
        live_worker.execute("SELECT pg_advisory_lock(%s)", [_key(message.business_id, message.phone_hash)])
        assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=600)) == {"dispatched": 0}
        message.refresh_from_db()
        assert message.status == Message.Status.SENDING
        pid = live_worker.info.backend_pid
    # Its session gone, the locks are free (once the server has ended that backend, a moment after the client left):
    # the claim goes back to the queue and is sent once.
    assert wait_for(lambda: not _holds_locks(pid), timeout=10)
    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=600)) == {
        "dispatched": 1,
        "requeued": 1,
    }
    assert [m["to"] for m in fake_telnyx.messages()] == [CONSUMER]


def test_an_outcome_written_late_by_a_worker_does_not_undo_a_newer_claim(subscribed):
    """A worker whose session was cut writes its outcome through a new one; a row recovered and claimed again since
    (a higher attempt) belongs to the other worker, and keeps what that one wrote."""
    _campaign, message = _claimed_by_a_dead_worker(subscribed, started=False)
    stale = Message.objects.get(pk=message.pk)
    Message.objects.filter(pk=message.pk).update(attempts=2, status=Message.Status.SENT, provider_message_id="new")
    stale.status = Message.Status.QUEUED
    messaging_services._write_outcomes([stale])
    message.refresh_from_db()
    if connection.vendor == "postgresql":
        assert (message.status, message.provider_message_id) == (Message.Status.SENT, "new")


# --- delivery reports that arrive before the hand-off's outcome is recorded -------------------------------------------


def _report(tenant, provider_message_id):
    return signing.message_finalized(
        provider_message_id=provider_message_id, to_number=CONSUMER, from_number=tenant.number.phone_number, text=BODY
    )


def _apply_reports():
    from messaging.webhooks import delivery_reports_apply_pending

    return delivery_reports_apply_pending()


def test_a_report_for_a_dead_workers_hand_off_waits_until_its_claim_is_marked_uncertain(subscribed, stale):
    """Telnyx reports within seconds; the dispatcher presumes a worker dead only SEND_STALE_SECONDS later. The report
    waits for it instead of being dropped, and then settles the message, and with it the campaign."""
    campaign, message = _claimed_by_a_dead_worker(subscribed, started=True)
    with tasks_held():
        assert post_webhook(_report(subscribed, "tx-early")).status_code == 202

    assert _apply_reports() == {"applied": 0, "remaining": False, "waiting": 1}  # no busy loop for the waiting one
    assert WebhookEvent.objects.get(event_type="message.finalized").outcome == "pending"
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING

    assert messaging_services.messages_dispatch_due(now=NOON_NY + timedelta(seconds=61)) == {
        "dispatched": 0,
        "uncertain": 1,
    }
    assert _apply_reports() == {"applied": 1, "remaining": False}
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Message.Status.DELIVERED, "tx-early")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert WebhookEvent.objects.get(event_type="message.finalized").outcome == "delivery-delivered"


def test_a_report_that_comes_before_a_live_worker_records_its_chunk_waits_for_the_record(subscribed, stale):
    """A worker writes its chunk's outcomes (the provider's ids among them) once the chunk is handed over: a report
    for the chunk's first text can come before. It waits, and applies once the id is recorded."""
    _campaign, message = _claimed_by_a_dead_worker(subscribed, started=True)
    with tasks_held():
        assert post_webhook(_report(subscribed, "tx-live")).status_code == 202
    assert _apply_reports()["waiting"] == 1

    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENT, provider_message_id="tx-live")
    assert _apply_reports() == {"applied": 1, "remaining": False}
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_a_report_for_no_message_of_ours_is_not_kept_waiting(subscribed, stale):
    _campaign, _message = _claimed_by_a_dead_worker(subscribed, started=False)  # claimed, but its hand-off not begun
    with tasks_held():
        assert post_webhook(_report(subscribed, "tx-other")).status_code == 202
    assert _apply_reports() == {"applied": 1, "remaining": False}
    assert WebhookEvent.objects.get(event_type="message.finalized").outcome == "unknown-message"
