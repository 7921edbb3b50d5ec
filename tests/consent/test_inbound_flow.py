"""A consumer's texts end to end: signed Telnyx webhook in, consent recorded, reply out through the real telnyx SDK
to the fake Telnyx server."""

from datetime import UTC, datetime

import pytest
from django.test import TestCase

from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind
from messaging.models import Message
from messaging.services import message_queue
from subscribers.models import Subscriber
from tests.helpers import text_in

NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)

CONSUMER = "+12025550143"
DISCLOSURES = ["Msg frequency varies", "Msg & data rates may apply", "STOP"]


def _text(tenant, text, **kw):
    return text_in(from_number=CONSUMER, to_number=tenant.number.phone_number, text=text, **kw)


def _subscriber(tenant):
    return Subscriber.objects.get(business=tenant.business, phone_number=CONSUMER)


def test_keyword_subscribes_and_confirms_with_the_disclosures(tenant_a, fake_telnyx):
    _text(tenant_a, "join", message_id="in-1")

    subscriber = _subscriber(tenant_a)
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert subscriber.opt_in_method == Subscriber.Method.KEYWORD
    assert subscriber.opted_in_at is not None

    event = ConsentEvent.objects.get()
    assert (event.kind, event.method, event.phone_number) == ("opt_in", "keyword", CONSUMER)
    assert event.evidence["provider_message_id"] == "in-1"
    assert event.evidence["inbound_text"] == "join"
    assert event.evidence["keyword"] == "JOIN"

    [sent] = fake_telnyx.messages()
    assert sent["from"] == tenant_a.number.phone_number
    assert sent["to"] == CONSUMER
    assert tenant_a.business.name in sent["text"]
    for disclosure in DISCLOSURES + ["HELP"]:
        assert disclosure in sent["text"]
    assert event.evidence["reply_text"] == sent["text"]
    reply = Message.objects.get(kind=Message.Kind.OPT_IN_CONFIRMATION)
    assert reply.status == Message.Status.SENT and reply.provider_message_id


def test_custom_keyword_confirmation_is_the_text_sent(tenant_a, fake_telnyx):
    custom = (
        f"{tenant_a.business.name} VIP club! Msg frequency varies. Msg & data rates may apply. "
        "Reply HELP for help, STOP to cancel."
    )
    tenant_a.keyword.confirmation_text = custom
    tenant_a.keyword.save()
    _text(tenant_a, "JOIN")
    assert [m["text"] for m in fake_telnyx.messages()] == [custom]


@pytest.mark.parametrize(
    "stop_text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "cancel",
        "END",
        "quit",
        "Revoke",
        "OPTOUT",
        "opt out",
        "Please stop texting me",
        "remove me from this list",
    ],
)
def test_every_opt_out_form_suppresses_at_once_and_confirms_once(tenant_a, fake_telnyx, stop_text):
    _text(tenant_a, "JOIN")
    fake_telnyx.reset()

    _text(tenant_a, stop_text)

    # committed by the time the webhook answered
    suppression = Suppression.objects.get(business=tenant_a.business)
    assert suppression.reason == Suppression.Reason.STOP
    subscriber = _subscriber(tenant_a)
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED and subscriber.opted_out_at is not None
    event = ConsentEvent.objects.filter(kind="opt_out").get()
    assert event.evidence["inbound_text"] == stop_text
    assert [m["text"] for m in fake_telnyx.messages()] == [
        f"You're unsubscribed from {tenant_a.business.name}. No more messages. Reply START to resubscribe."
    ]


def test_after_stop_nothing_else_is_sent(tenant_a, fake_telnyx):
    _text(tenant_a, "JOIN")
    _text(tenant_a, "STOP")
    fake_telnyx.reset()

    _text(tenant_a, "STOP")  # a second STOP: recorded, but no second confirmation
    _text(tenant_a, "HELP")
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = message_queue(
            business=tenant_a.business,
            sender_number=tenant_a.number,
            phone=CONSUMER,
            kind=SendKind.TRANSACTIONAL,
            body="Your order is ready",
        )

    assert fake_telnyx.messages() == []
    message.refresh_from_db()
    assert message.status == Message.Status.BLOCKED
    assert "suppressed" in message.error_detail
    assert list(ConsentEvent.objects.values_list("kind", flat=True)) == ["opt_in", "opt_out", "opt_out", "help"]


def test_a_message_queued_before_stop_is_not_sent_after_it(tenant_a, fake_telnyx):
    _text(tenant_a, "JOIN")
    fake_telnyx.reset()
    # Queued (not yet handed to the provider) when the STOP arrives.
    pending = message_queue(
        business=tenant_a.business, sender_number=tenant_a.number, phone=CONSUMER, kind="marketing", body="20% off!"
    )
    _text(tenant_a, "STOP")
    from messaging.services import message_send

    message_send(message_id=pending.pk, now=NOON_NY)  # inside the consumer's hours: only consent can hold it
    pending.refresh_from_db()
    assert pending.status == Message.Status.BLOCKED
    assert [m["text"] for m in fake_telnyx.messages()] == [
        f"You're unsubscribed from {tenant_a.business.name}. No more messages. Reply START to resubscribe."
    ]


@pytest.mark.parametrize("start_text", ["START", "unstop", "Yes", "SUBSCRIBE", "join"])
def test_opt_in_after_stop_lifts_the_suppression_and_records_a_new_opt_in(tenant_a, fake_telnyx, start_text):
    _text(tenant_a, "JOIN")
    _text(tenant_a, "STOP")
    fake_telnyx.reset()

    _text(tenant_a, start_text)

    assert not Suppression.objects.filter(business=tenant_a.business).exists()
    subscriber = _subscriber(tenant_a)
    assert subscriber.status == Subscriber.Status.SUBSCRIBED and subscriber.opted_out_at is None
    assert list(ConsentEvent.objects.values_list("kind", flat=True)) == ["opt_in", "opt_out", "opt_in"]
    [sent] = fake_telnyx.messages()
    assert "Reply HELP for help, STOP to cancel" in sent["text"]


@pytest.mark.parametrize("help_text", ["HELP", "help", "Info", "INFO?"])
def test_help_gets_the_business_help_text(tenant_a, fake_telnyx, help_text):
    tenant_a.business.support_contact = "(202) 555-0199"
    tenant_a.business.save()
    _text(tenant_a, help_text)

    [sent] = fake_telnyx.messages()
    assert tenant_a.business.name in sent["text"]
    assert "(202) 555-0199" in sent["text"]
    for disclosure in DISCLOSURES:
        assert disclosure in sent["text"]
    event = ConsentEvent.objects.get()
    assert event.kind == "help" and event.evidence["reply_text"] == sent["text"]
    # HELP does not subscribe anyone
    assert not Subscriber.objects.exists()


def test_ordinary_message_is_stored_for_the_inbox_and_changes_nothing(tenant_a, fake_telnyx):
    _text(tenant_a, "what time do you open?", message_id="in-9")
    inbound = Message.objects.get()
    assert (inbound.direction, inbound.body, inbound.provider_message_id) == (
        "inbound",
        "what time do you open?",
        "in-9",
    )
    assert not ConsentEvent.objects.exists()
    assert not Subscriber.objects.exists()
    assert fake_telnyx.messages() == []


def test_every_inbound_and_outbound_message_is_stored(tenant_a, fake_telnyx):
    """Keywords, STOP and HELP are marked as handled commands; only ordinary texts are for the inbox."""
    _text(tenant_a, "JOIN")
    _text(tenant_a, "hello?")
    _text(tenant_a, "STOP")
    history = Message.objects.filter(business=tenant_a.business, phone_number=CONSUMER).order_by("id")
    assert [(m.direction, m.kind, m.status) for m in history] == [
        ("inbound", "inbound_command", "received"),
        ("outbound", "opt_in_confirmation", "sent"),
        ("inbound", "inbound", "received"),
        ("inbound", "inbound_command", "received"),
        ("outbound", "opt_out_confirmation", "sent"),
    ]
    assert all(m.provider_message_id for m in history)


def test_same_phone_in_two_businesses_is_two_unrelated_records(tenant_a, tenant_b, fake_telnyx):
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    text_in(from_number=CONSUMER, to_number=tenant_b.number.phone_number, text="JOIN")
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="STOP")

    a = Subscriber.objects.get(business=tenant_a.business)
    b = Subscriber.objects.get(business=tenant_b.business)
    assert a.pk != b.pk
    assert a.status == "unsubscribed" and b.status == "subscribed"
    assert not Suppression.objects.filter(business=tenant_b.business).exists()
    assert ConsentEvent.objects.filter(business=tenant_b.business).count() == 1


def test_keyword_is_only_recognised_on_its_own_number(tenant_a, tenant_b, fake_telnyx):
    tenant_b.keyword.keyword = "HOMES"
    tenant_b.keyword.save()
    text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="HOMES")
    assert not Subscriber.objects.exists()
    assert Message.objects.get().kind == "inbound"


def test_business_do_not_text_list_survives_a_consumer_opt_in(tenant_a, fake_telnyx):
    from consent.services import suppression_add_manual

    suppression_add_manual(business=tenant_a.business, phone=CONSUMER, user=tenant_a.owner.user)
    _text(tenant_a, "JOIN")
    assert Suppression.objects.get().reason == Suppression.Reason.MANUAL
    assert fake_telnyx.messages() == []
