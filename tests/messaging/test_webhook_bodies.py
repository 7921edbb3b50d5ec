"""POST /webhooks/telnyx/ with signed bodies of every odd shape: each gets a 2xx (a STOP in it honoured) or a 4xx
saying what is wrong, never a 500, which Telnyx would redeliver for ever.

PostgreSQL refuses NUL characters and lone surrogates in text and JSON where SQLite takes them: run on both.
"""

import copy
import json
import random

import pytest
import time_machine

from consent.models import Suppression
from devtools.fakes import signing
from messaging.models import Message, WebhookEvent
from messaging.webhooks import delivery_reports_apply_pending
from tests.helpers import post_webhook
from tests.webhook_mutations import mutated

CONSUMER = "+12025550143"
DEEP = 1000


def _received(tenant, text="STOP"):
    return signing.message_received(from_number=CONSUMER, to_number=tenant.number.phone_number, text=text)


def _set(path, value):
    """A change to an event: `value` put at the dotted `path` (a missing last key is added; None deletes it)."""

    def change(event):
        *parents, last = path.split(".")
        node = event
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            node.pop(last, None)
        elif isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        else:
            node[last] = copy.deepcopy(value)
        return event

    return change


def _opted_out(tenant):
    return Suppression.objects.filter(business=tenant.business).exists()


# (change to a STOP event, the answer, whether the STOP is honoured, what the error names)
STOP_CASES = {
    "lone high surrogate after STOP": (_set("data.payload.text", "STOP \ud83d"), 200, True, ""),
    "lone low surrogate before STOP": (_set("data.payload.text", "\udc00STOP"), 200, True, ""),
    "NUL inside STOP": (_set("data.payload.text", "ST\x00OP"), 200, True, ""),
    "NUL and surrogates in keys and other fields": (
        _set("data.payload.carrier\x00note", ["\ud800", {"\udfff": "x\x00"}]),
        200,
        True,
        "",
    ),
    "surrogate in the event id": (_set("data.id", "evt-\ud83d-1"), 200, True, ""),
    "NUL in the message id": (_set("data.payload.id", "msg-\x00-1"), 200, True, ""),
    "to as an object, not a list": (_set("data.payload.to", {"phone_number": "TENANT"}), 200, True, ""),
    "to as a list of strings": (_set("data.payload.to", ["TENANT"]), 200, True, ""),
    "received_at not a date": (_set("data.payload.received_at", "2025-13-45T99:00:00Z"), 200, True, ""),
    "received_at a number": (_set("data.payload.received_at", 1733200000), 200, True, ""),
    "received_at without a zone": (_set("data.payload.received_at", "2025-06-01T12:00:00"), 200, True, ""),
    "received_at in year 1": (_set("data.payload.received_at", "0001-01-01T00:00:00+05:00"), 200, True, ""),
    "media an object": (_set("data.payload.media", {"url": "https://x.invalid/a.png"}), 200, True, ""),
    "media with odd items": (_set("data.payload.media", [1, "a", {"url": 5}, {"url": ["x"]}, None]), 200, True, ""),
    "meta a list": (_set("meta", [1, 2]), 200, True, ""),
    "nesting 1,000 deep in an unused field": (_set("data.payload.extra", "DEEP"), 400, False, "nested"),
    "300-character from": (_set("data.payload.from.phone_number", "+1" + "2" * 298), 400, False, "from"),
    "300-character to": (_set("data.payload.to.0.phone_number", "+1" + "3" * 298), 400, False, "to"),
    "300-character message id": (_set("data.payload.id", "m" * 300), 400, False, "id"),
    "from a number": (_set("data.payload.from", 12025550143), 400, False, "from"),
    "from a list": (_set("data.payload.from", [CONSUMER]), 400, False, "from"),
    "from phone number a number": (_set("data.payload.from.phone_number", 12025550143), 400, False, "from"),
    "to a number": (_set("data.payload.to", 5), 400, False, "to"),
    "message id a number": (_set("data.payload.id", 42), 400, False, "id"),
    "payload a list": (_set("data.payload", [{"text": "STOP"}]), 400, False, "payload"),
    "payload missing": (_set("data.payload", None), 400, False, "payload"),
    "data a list": (_set("data", [{"id": "x"}]), 400, False, "Telnyx event"),
    "data missing": (_set("data", None), 400, False, "Telnyx event"),
    "event type a number": (_set("data.event_type", 7), 400, False, "Telnyx event"),
    "a NaN in an unused field": (_set("data.payload.extra", float("nan")), 400, False, "NaN"),
    "an Infinity in an unused field": (_set("data.payload.extra", float("inf")), 400, False, "Infinity"),
}


@pytest.mark.parametrize(("change", "status", "honoured", "names"), STOP_CASES.values(), ids=STOP_CASES.keys())
def test_a_signed_stop_of_any_shape_is_answered_without_a_500(tenant_a, change, status, honoured, names):
    event = change(_received(tenant_a))
    # (a 1,000-deep value cannot be built by json.dumps: it goes in as text)
    body = signing.dumps(event).replace("TENANT", tenant_a.number.phone_number)
    body = body.replace('"DEEP"', "[" * DEEP + "]" * DEEP)
    response = post_webhook(None, body=body)
    assert response.status_code == status, response.content
    assert _opted_out(tenant_a) is honoured
    if status >= 400:
        assert names in response.json()["error"]
        assert not WebhookEvent.objects.exists()
    else:
        assert WebhookEvent.objects.get().outcome == "opt_out"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        pytest.param("Hello \U0001f600", "Hello \U0001f600", id="emoji-pair-kept"),
        pytest.param("See you at 5\x00", "See you at 5", id="nul-dropped"),
        pytest.param("Thanks \ud83d", "Thanks ", id="lone-surrogate-dropped"),
        pytest.param(12345, "", id="text-a-number"),
        pytest.param(["STOP"], "", id="text-a-list"),
    ],
)
def test_an_ordinary_text_keeps_its_characters_and_loses_only_the_unstorable_ones(tenant_a, text, stored):
    response = post_webhook(_set("data.payload.text", text)(_received(tenant_a)))
    assert response.status_code == 200, response.content
    assert Message.objects.get(direction=Message.Direction.INBOUND).body == stored
    assert not _opted_out(tenant_a)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * DEEP + "]" * DEEP, id="a list 1,000 deep"),
        pytest.param('{"data":' * DEEP + "1" + "}" * DEEP, id="objects 1,000 deep"),
        pytest.param('{"data": {"id": "e", "event_type": "x", "payload": ' + "[" * 40 + "]" * 40 + "}}", id="40 deep"),
        pytest.param('{"data": {"id": "e", "event_type": "x", "n": ' + "9" * 5000 + "}}", id="a 5,000-digit number"),
        pytest.param('{"data": {"id": "e", "event_type": "x", "n": 1e400}}', id="a number too large for a float"),
        pytest.param('{"data": {"id": "e", "event_type": "x", "n": -Infinity}}', id="minus Infinity"),
    ],
)
def test_a_body_no_event_can_be_is_a_clean_4xx(tenant_a, body):
    response = post_webhook(None, body=body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_an_unknown_event_type_with_odd_characters_is_stored_and_ignored(tenant_a):
    event = {"data": {"id": "evt-\x00-odd", "event_type": "call.\ud83d", "payload": {"x": "\x00\udfff"}}}
    response = post_webhook(event)
    assert response.status_code == 200, response.content
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.event_type, stored.outcome) == ("evt--odd", "call.", "ignored")


def test_a_body_over_the_upload_limit_is_refused(tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    event = _received(tenant_a, text="STOP " + "x" * 200_000)
    response = post_webhook(event)
    assert 400 <= response.status_code < 500
    assert not WebhookEvent.objects.exists()


def test_a_long_text_under_the_upload_limit_is_stored_and_answered(tenant_a):
    response = post_webhook(_received(tenant_a, text="please " * 50_000))
    assert response.status_code == 200, response.content
    assert Message.objects.get(direction=Message.Direction.INBOUND).body.startswith("please please")


def _outbound(tenant, provider_message_id):
    return Message.objects.create(
        business=tenant.business, direction=Message.Direction.OUTBOUND, kind=Message.Kind.CONVERSATION,
        sender_number=tenant.number, phone_number=CONSUMER, phone_hash="h", body="Sale today",
        status=Message.Status.SENT, provider_message_id=provider_message_id,
    )  # fmt: skip


REPORT_CASES = {
    "parts beyond a small integer": _set("data.payload.parts", 10**12),
    "parts negative": _set("data.payload.parts", -3),
    "parts a string": _set("data.payload.parts", "2"),
    "cost with too many digits": _set("data.payload.cost", {"amount": "12345678901.5", "currency": "USD"}),
    "cost not a number": _set("data.payload.cost", {"amount": "NaN", "currency": "USD"}),
    "cost an Infinity string": _set("data.payload.cost", {"amount": "Infinity", "currency": "USD"}),
    "cost a list": _set("data.payload.cost", [1]),
    "error code 300 characters": _set("data.payload.errors", [{"code": "4" * 300, "detail": "d" * 900}]),
    "error code an object": _set("data.payload.errors", [{"code": {"a": 1}}]),
    "errors an object": _set("data.payload.errors", {"code": "40300"}),
    "sent_at not a date": _set("data.payload.sent_at", "2025-02-30T10:00:00Z"),
    "completed_at a number": _set("data.payload.completed_at", 5),
    "from a number": _set("data.payload.from", 5),
    "300-character recipient": _set("data.payload.to.0.phone_number", "+1" + "4" * 298),
    "status a list": _set("data.payload.to.0.status", ["delivered"]),
    "text with surrogates and NUL": _set("data.payload.text", "a\ud83d\x00"),
}


@pytest.mark.parametrize("change", REPORT_CASES.values(), ids=REPORT_CASES.keys())
def test_a_delivery_report_of_any_shape_is_accepted_and_applied_without_an_error(tenant_a, change):
    message = _outbound(tenant_a, "out-1")
    event = change(signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER))
    response = post_webhook(event)
    assert response.status_code in (200, 202), response.content
    delivery_reports_apply_pending()  # the worker's step: an error here would repeat on every batch
    assert not WebhookEvent.objects.filter(outcome="pending").exists()
    message.refresh_from_db()  # the message row is still readable
    assert message.status in {choice for choice, _ in Message.Status.choices}


# -- a seeded random sweep ------------------------------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    "STOP",
    "stop \ud83d",
    "\udc00",
    "\ud83d\ude00",
    "\x00",
    "ST\x00OP",
    "x" * 400,
    "+1" * 150,
    "1e400",
    "NaN",
    "\u202e",
    "\ufeff",
    "null",
    "'; DROP TABLE x; --",
    "%s%s%s",
    "\\",
    '"',
    "\n\r\t",
    "0",
    "-1",
    "\U0010ffff",
]


def _nasty(rng, depth=0):
    roll = rng.random()
    if depth > 6 or roll < 0.45:
        return rng.choice(
            [
                rng.choice(NASTY_STRINGS), rng.randint(-(2**70), 2**70), rng.random() * 10 ** rng.randint(-5, 300),
                None, True, False, rng.randint(0, 40000),
            ]
        )  # fmt: skip
    if roll < 0.7:
        return [_nasty(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(NASTY_STRINGS + ["id", "text", "to", "from", "phone_number"]): _nasty(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}  # fmt: skip


def _random_event(rng, tenant, n):
    """A Telnyx event with random parts replaced by nasty values, or an entirely nasty body now and then."""
    if rng.random() < 0.1:
        return _nasty(rng)
    event = rng.choice(
        [
            signing.message_received(from_number=CONSUMER, to_number=tenant.number.phone_number, text="STOP"),
            signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER),
            {"data": {"id": f"e{n}", "event_type": "call.hangup", "payload": {}}},
        ]
    )
    paths = [
        "data.payload.text", "data.payload.from", "data.payload.to", "data.payload.id", "data.payload.received_at",
        "data.payload.media", "data.payload.errors", "data.payload.cost", "data.payload.parts", "data.payload",
        "data.event_type", "data.id", "meta", "data.payload.sent_at", "data.payload.completed_at",
    ]  # fmt: skip
    for path in rng.sample(paths, rng.randint(1, 4)):
        try:
            _set(path, _nasty(rng))(event)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            pass  # an earlier change removed the parent: fine, the body is odd enough
    return event


@pytest.mark.parametrize("seed", range(6))
def test_a_few_hundred_random_signed_bodies_never_get_a_5xx(tenant_a, seed):
    rng = random.Random(seed)
    _outbound(tenant_a, "out-1")
    answers = set()
    for n in range(50):
        event = _random_event(rng, tenant_a, n)
        body = json.dumps(event, separators=(",", ":"))
        response = post_webhook(None, body=body)
        assert response.status_code < 500, (body[:2000], response.content)
        answers.add(response.status_code)
    delivery_reports_apply_pending()
    assert answers <= {200, 202, 400}


@pytest.mark.parametrize("seed", range(6))
def test_random_changes_anywhere_in_a_signed_event_never_get_a_5xx(tenant_a, seed):
    """The sweep above changes the fields the webhook reads; this one changes any field, item or subtree."""
    rng = random.Random(1000 + seed)
    message = _outbound(tenant_a, "out-1")
    number = tenant_a.number.phone_number
    words = [CONSUMER, number, "out-1", "STOP", "START", "HELP", "message.received", "message.finalized",
             "message.sent", "delivered", "delivery_failed", "phone_number", "payload", "event_type"]  # fmt: skip
    answers = {}
    with time_machine.travel(1_764_000_000, tick=False):
        for n in range(50):
            event = rng.choice(
                [
                    signing.message_received(from_number=CONSUMER, to_number=number, text="STOP", event_id=f"r{n}"),
                    signing.message_finalized(provider_message_id="out-1", to_number=CONSUMER, event_id=f"f{n}"),
                ]
            )
            body = json.dumps(mutated(rng, event, words), separators=(",", ":"))
            response = post_webhook(None, body=body)
            assert response.status_code < 500, (body[:2000], response.content)
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
    delivery_reports_apply_pending()
    assert not WebhookEvent.objects.filter(outcome="pending").exists()
    message.refresh_from_db()
    assert message.status in Message.Status.values
    assert set(answers) <= {200, 202, 400} and answers.get(400) and (answers.get(200) or answers.get(202)), answers
