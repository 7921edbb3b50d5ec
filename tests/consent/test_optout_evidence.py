"""An opt-out in the ledger: the rule that read it goes into the evidence, the confirmation says how to come back,
and a STOP to any of a business's numbers stops every text from that business."""

from datetime import UTC, datetime

import pytest

from consent.models import ConsentEvent, Suppression
from consent.policy import SendKind, can_send
from messaging.models import Message
from messaging.services import message_queue, message_send
from subscribers.models import Subscriber
from tests.factories import KeywordFactory, SenderNumberFactory
from tests.helpers import text_in

NOON_NY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
CONSUMER = "+12025550143"


def _text(number, text):
    text_in(from_number=CONSUMER, to_number=number.phone_number, text=text)


@pytest.mark.parametrize(
    ("text", "rule", "understood"),
    [
        ("STOP", "fcc-keyword:stop", False),
        ("stop please", "fcc-keyword:stop+politeness", True),
        ("Stopp", "edit-distance:stopp\u2192stop", True),
        ("no más mensajes", "phrase:es:no-mas-mensajes", True),
        ("please stop texting me", "phrase:en:stop-texting", True),
    ],
)
def test_the_rule_that_decided_is_in_the_evidence(tenant_a, fake_telnyx, text, rule, understood):
    _text(tenant_a.number, "JOIN")
    _text(tenant_a.number, text)
    event = ConsentEvent.objects.get(kind=ConsentEvent.Kind.OPT_OUT)
    assert event.evidence["rule"] == rule
    assert event.evidence["inbound_text"] == text
    assert event.evidence.get("understood_as_stop", False) is understood
    assert Suppression.objects.filter(business=tenant_a.business, reason=Suppression.Reason.STOP).count() == 1
    assert Subscriber.objects.get(phone_number=CONSUMER).status == Subscriber.Status.UNSUBSCRIBED


def test_an_ordinary_message_records_no_consent_event(tenant_a, fake_telnyx):
    _text(tenant_a.number, "JOIN")
    _text(tenant_a.number, "I'll stop by at 5")
    assert not ConsentEvent.objects.filter(kind=ConsentEvent.Kind.OPT_OUT).exists()
    assert not Suppression.objects.exists()


def test_the_confirmation_says_start_resubscribes(tenant_a, fake_telnyx):
    _text(tenant_a.number, "JOIN")
    fake_telnyx.reset()
    _text(tenant_a.number, "please stop texting me")
    [sent] = fake_telnyx.messages()
    assert "Reply START to resubscribe" in sent["text"]
    assert ConsentEvent.objects.get(kind=ConsentEvent.Kind.OPT_OUT).evidence["reply_text"] == sent["text"]


def test_a_stop_to_one_number_stops_every_text_from_the_business(tenant_a, tenant_b, fake_telnyx):
    second = SenderNumberFactory(business=tenant_a.business)
    KeywordFactory(number=second, keyword="DEALS")
    _text(tenant_a.number, "JOIN")
    _text(second, "DEALS")
    _text(tenant_b.number, "JOIN")  # the same phone at another business
    queued = [
        message_queue(business=tenant_a.business, sender_number=n, phone=CONSUMER, kind=kind, body=f"{kind} via {n}")
        for n in (tenant_a.number, second)
        for kind in (SendKind.MARKETING, SendKind.TRANSACTIONAL, SendKind.CONVERSATION)
    ]
    other = message_queue(
        business=tenant_b.business, sender_number=tenant_b.number, phone=CONSUMER, kind="marketing", body="B's news"
    )
    fake_telnyx.reset()

    _text(second, "Stop please")  # to the second number only

    for kind in (SendKind.MARKETING, SendKind.TRANSACTIONAL, SendKind.CONVERSATION, SendKind.HELP_REPLY):
        assert not can_send(tenant_a.business, CONSUMER, kind)
    for message in queued:
        message_send(message_id=message.pk, now=NOON_NY)
        message.refresh_from_db()
        assert message.status == Message.Status.BLOCKED
    message_send(message_id=other.pk, now=NOON_NY)
    other.refresh_from_db()
    assert other.status == Message.Status.SENT  # another business's consent is its own
    texts = [(m["from"], m["text"]) for m in fake_telnyx.messages()]
    assert texts == [
        (
            second.phone_number,
            f"You're unsubscribed from {tenant_a.business.name}. No more messages. Reply START to resubscribe.",
        ),
        (tenant_b.number.phone_number, "B's news"),
    ]
