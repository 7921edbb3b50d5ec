"""POST /webhooks/stripe/ with signed events whose fields have the wrong types: each gets a 200 (applied, or stored
and ignored) or a 400 naming the field, never a 500, and a refused event changes no business and is not stored.

Stripe retries a 500 for three days; a 400 says the event can never be applied as it is.
"""

import copy
import json
import random

import pytest
import time_machine

from accounts.billing_events import READERS
from accounts.models import BillingWebhookEvent, Business
from devtools.fakes import stripe_signing
from tests.helpers import STRIPE_PERIOD_END, STRIPE_PERIOD_START, post_stripe_event
from tests.webhook_mutations import junk, mutated

MISSING = object()  # a change that removes the field


def _set(path, value):
    """A change to an event: `value` put at the dotted `path` (a list index is a number), or the field removed."""

    def change(event):
        *parents, last = path.split(".")
        node = event
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        if value is MISSING:
            node.pop(key, None) if isinstance(node, dict) else node.pop(key)
        else:
            node[key] = copy.deepcopy(value)
        return event

    return change


def _state(business_id):
    business = Business.objects.get(pk=business_id)
    return {field: getattr(business, field) for field in ("plan", "billing_status", "stripe_customer_id",
            "stripe_subscription_id", "payment_failed_at", "current_period_start", "current_period_end")}  # fmt: skip


def _base(kind, business):
    """An event that, as Stripe sends it, changes the `subscribed` business (cus_A on Starter with sub_A)."""
    if kind == "checkout":
        return stripe_signing.checkout_completed(
            business_id=business.pk, customer="cus_A", subscription="sub_G", plan="growth"
        )
    if kind in ("updated", "created"):
        return stripe_signing.subscription_event(
            f"customer.subscription.{kind}", subscription_id="sub_A", customer="cus_A", price="price_growth_test",
            status="past_due", period_start=STRIPE_PERIOD_START, period_end=STRIPE_PERIOD_END,
        )  # fmt: skip
    if kind == "deleted":
        return stripe_signing.subscription_event(
            "customer.subscription.deleted", subscription_id="sub_A", customer="cus_A", price="price_starter_test",
            status="canceled", period_start=STRIPE_PERIOD_START, period_end=STRIPE_PERIOD_END,
        )  # fmt: skip
    if kind in ("failed", "paid"):
        event_type = "invoice.payment_failed" if kind == "failed" else "invoice.paid"
        return stripe_signing.invoice_event(event_type, customer="cus_A", subscription="sub_A")
    if kind == "other":
        return stripe_signing.event("customer.updated", {"id": "cus_A", "object": "customer"})
    raise ValueError(kind)


@pytest.fixture
def growth_subscription(subscribed, fake_stripe):
    """The subscription a Checkout for the Growth plan makes, as Stripe answers for it."""
    fake_stripe.add_subscription(
        "sub_G", customer="cus_A", price="price_growth_test", period_start=STRIPE_PERIOD_START,
        period_end=STRIPE_PERIOD_END,
    )  # fmt: skip
    return subscribed


OBJ = "data.object"
# (the event, the change to it, the answer, what a 400's error names or a 200's outcome)
CASES = {
    # The envelope.
    "data.object a list": ("updated", _set(OBJ, [{"id": "sub_A"}]), 400, "Not a Stripe event"),
    "data a list": ("failed", _set("data", [1]), 400, "Not a Stripe event"),
    "type a number": ("failed", _set("type", 7), 400, "Not a Stripe event"),
    "type null": ("failed", _set("type", None), 400, "Not a Stripe event"),
    "id missing": ("deleted", _set("id", MISSING), 400, "Not a Stripe event"),
    "id a number": ("deleted", _set("id", 12345), 400, "Not a Stripe event"),
    "id 300 characters": ("deleted", _set("id", "evt_" + "x" * 296), 400, "id is too long"),
    "type 300 characters": ("deleted", _set("type", "customer.subscription." + "x" * 280), 400, "type is too long"),
    "created a string": ("failed", _set("created", "1764000000"), 400, "created"),
    "created a bool": ("failed", _set("created", True), 400, "created"),
    "created beyond year 9999": ("failed", _set("created", 10**20), 400, "created"),
    "created negative": ("failed", _set("created", -5), 400, "created"),
    "created missing": ("failed", _set("created", MISSING), 200, "invoice.payment_failed"),
    "an unknown type with junk in its object": (
        "other",
        _set(f"{OBJ}.metadata", [1, {"a": None}]),
        200,
        "ignored",
    ),  # fmt: skip
    # A finished Checkout.
    "checkout metadata a list": ("checkout", _set(f"{OBJ}.metadata", ["plan", "growth"]), 400, f"{OBJ}.metadata"),
    "checkout metadata a string": ("checkout", _set(f"{OBJ}.metadata", "growth"), 400, f"{OBJ}.metadata"),
    "checkout metadata.plan a number": ("checkout", _set(f"{OBJ}.metadata.plan", 2), 400, f"{OBJ}.metadata.plan"),
    "checkout customer a number": ("checkout", _set(f"{OBJ}.customer", 42), 400, f"{OBJ}.customer"),
    "checkout customer an object without id": ("checkout", _set(f"{OBJ}.customer", {"x": 1}), 400, f"{OBJ}.customer"),
    "checkout customer 300 characters": ("checkout", _set(f"{OBJ}.customer", "cus_" + "9" * 296), 400, "too long"),
    "checkout customer an expanded object": (
        "checkout",
        _set(f"{OBJ}.customer", {"id": "cus_A", "object": "customer"}),
        200,
        "checkout.session.completed",
    ),  # fmt: skip
    "checkout subscription a number": ("checkout", _set(f"{OBJ}.subscription", 7), 400, f"{OBJ}.subscription"),
    "checkout subscription a list": ("checkout", _set(f"{OBJ}.subscription", ["sub_G"]), 400, f"{OBJ}.subscription"),
    "checkout client_reference_id a list": (
        "checkout",
        _set(f"{OBJ}.client_reference_id", [1]),
        400,
        f"{OBJ}.client_reference_id",
    ),  # fmt: skip
    "checkout client_reference_id an object": (
        "checkout",
        _set(f"{OBJ}.client_reference_id", {"id": 1}),
        400,
        f"{OBJ}.client_reference_id",
    ),  # fmt: skip
    "checkout client_reference_id not a business": (
        "checkout",
        _set(f"{OBJ}.client_reference_id", "x"),
        200,
        "ignored",
    ),  # fmt: skip
    "checkout client_reference_id a superscript digit": (
        "checkout",
        _set(f"{OBJ}.client_reference_id", "\u00b2"),
        200,
        "ignored",
    ),  # fmt: skip
    "checkout mode a number": ("checkout", _set(f"{OBJ}.mode", 1), 400, f"{OBJ}.mode"),
    "checkout unused fields odd": ("checkout", _set(f"{OBJ}.payment_status", {"a": [None]}), 200, "checkout.session"),
    # A subscription created or updated.
    "subscription status a number": ("updated", _set(f"{OBJ}.status", 3), 400, f"{OBJ}.status"),
    "subscription status a list": ("updated", _set(f"{OBJ}.status", ["active"]), 400, f"{OBJ}.status"),
    "subscription status an object": ("created", _set(f"{OBJ}.status", {"a": 1}), 400, f"{OBJ}.status"),
    "subscription status missing": ("updated", _set(f"{OBJ}.status", MISSING), 400, f"{OBJ}.status"),
    "subscription status unknown": ("updated", _set(f"{OBJ}.status", "paused_forever"), 200, "customer.subscription"),
    "subscription metadata a list": ("updated", _set(f"{OBJ}.metadata", [1]), 400, f"{OBJ}.metadata"),
    "subscription metadata a string": ("updated", _set(f"{OBJ}.metadata", "plan"), 400, f"{OBJ}.metadata"),
    "subscription customer a number": ("updated", _set(f"{OBJ}.customer", 42), 400, f"{OBJ}.customer"),
    "subscription customer an object of the wrong id": (
        "updated",
        _set(f"{OBJ}.customer", {"id": 42}),
        400,
        f"{OBJ}.customer",
    ),  # fmt: skip
    "subscription customer null": ("updated", _set(f"{OBJ}.customer", None), 200, "unknown-customer"),
    "subscription customer empty": ("updated", _set(f"{OBJ}.customer", ""), 200, "unknown-customer"),
    "subscription id missing": ("updated", _set(f"{OBJ}.id", MISSING), 400, f"{OBJ}.id"),
    "subscription id a number": ("updated", _set(f"{OBJ}.id", 9), 400, f"{OBJ}.id"),
    "subscription id 300 characters": ("updated", _set(f"{OBJ}.id", "sub_" + "x" * 296), 400, "too long"),
    "items a list": ("updated", _set(f"{OBJ}.items", [{"price": "p"}]), 400, f"{OBJ}.items"),
    "items.data not a list": ("updated", _set(f"{OBJ}.items.data", {"0": {"price": "p"}}), 400, f"{OBJ}.items.data"),
    "items.data a string": ("updated", _set(f"{OBJ}.items.data", "price_growth_test"), 400, f"{OBJ}.items.data"),
    "items.data's item a string": ("updated", _set(f"{OBJ}.items.data.0", "si_1"), 400, f"{OBJ}.items.data.0"),
    "items.data's price a number": ("updated", _set(f"{OBJ}.items.data.0.price", 5), 400, f"{OBJ}.items.data.0.price"),
    "items.data's price id a list": (
        "updated",
        _set(f"{OBJ}.items.data.0.price.id", ["price_growth_test"]),
        400,
        f"{OBJ}.items.data.0.price.id",
    ),  # fmt: skip
    "items.data empty": ("updated", _set(f"{OBJ}.items.data", []), 200, "customer.subscription.updated"),
    "current_period_end a string": (
        "updated",
        _set(f"{OBJ}.current_period_end", "2026-01-01"),
        400,
        f"{OBJ}.current_period_end",
    ),  # fmt: skip
    "current_period_end a float": (
        "updated",
        _set(f"{OBJ}.current_period_end", 1.5e9),
        400,
        f"{OBJ}.current_period_end",
    ),  # fmt: skip
    "current_period_end a bool": ("updated", _set(f"{OBJ}.current_period_end", True), 400, f"{OBJ}.current_period_end"),
    "current_period_end beyond year 9999": (
        "updated",
        _set(f"{OBJ}.current_period_end", 10**15),
        400,
        f"{OBJ}.current_period_end",
    ),  # fmt: skip
    "current_period_start negative": (
        "updated",
        _set(f"{OBJ}.current_period_start", -1),
        400,
        f"{OBJ}.current_period_start",
    ),  # fmt: skip
    "the item's period a string": (
        "updated",
        lambda e: _set(f"{OBJ}.items.data.0.current_period_end", "soon")(_set(f"{OBJ}.current_period_start", None)(e)),
        400,
        f"{OBJ}.items.data.0.current_period_end",
    ),
    "unused subscription fields odd": (
        "updated",
        _set(f"{OBJ}.cancel_at_period_end", [[[]]]),
        200,
        "customer.subscription.updated",
    ),  # fmt: skip
    # A subscription deleted.
    "deleted id an object": ("deleted", _set(f"{OBJ}.id", {"id": "sub_A"}), 400, f"{OBJ}.id"),
    "deleted customer a list": ("deleted", _set(f"{OBJ}.customer", ["cus_A"]), 400, f"{OBJ}.customer"),
    "deleted status a number": ("deleted", _set(f"{OBJ}.status", 0), 400, f"{OBJ}.status"),
    # Invoices.
    "invoice customer a number": ("failed", _set(f"{OBJ}.customer", 42), 400, f"{OBJ}.customer"),
    "invoice customer a bool": ("paid", _set(f"{OBJ}.customer", False), 400, f"{OBJ}.customer"),
    "invoice customer a list": ("failed", _set(f"{OBJ}.customer", []), 400, f"{OBJ}.customer"),
    "invoice customer an expanded object": (
        "failed",
        _set(f"{OBJ}.customer", {"id": "cus_A", "object": "customer"}),
        200,
        "invoice.payment_failed",
    ),  # fmt: skip
    "invoice subscription a number (unused)": ("failed", _set(f"{OBJ}.subscription", 3), 200, "invoice.payment_failed"),
    "invoice amount a string (unused)": ("failed", _set(f"{OBJ}.amount_due", "lots"), 200, "invoice.payment_failed"),
}


@pytest.mark.parametrize(("kind", "change", "status", "names"), CASES.values(), ids=CASES.keys())
def test_a_signed_event_with_mistyped_fields_is_answered_without_a_500(growth_subscription, kind, change, status,
                                                                       names):  # fmt: skip
    business = growth_subscription.business
    before, stored_before = _state(business.pk), BillingWebhookEvent.objects.count()
    response = post_stripe_event(change(_base(kind, business)))
    assert response.status_code == status, response.content
    if status == 400:
        assert names in response.json()["error"], response.json()
        assert _state(business.pk) == before  # nothing recorded is changed
        assert BillingWebhookEvent.objects.count() == stored_before  # and the refused event is not stored
    else:
        assert response.json()["status"].startswith(names), response.json()
        assert BillingWebhookEvent.objects.count() == stored_before + 1


def test_a_refused_event_is_logged_and_can_be_sent_again_once_corrected(growth_subscription, caplog):
    """A 400 stores nothing, so the same event id, fixed, is applied: the refusal did not use it up."""
    event = _base("failed", growth_subscription.business)
    assert post_stripe_event(_set(f"{OBJ}.customer", 42)(copy.deepcopy(event))).status_code == 400
    (refused,) = [r for r in caplog.records if r.getMessage() == "billing.webhook.refused"]
    assert refused.event_id == event["id"]
    assert "data.object.customer must be an id" in refused.reason
    response = post_stripe_event(event)
    assert response.json() == {"status": "invoice.payment_failed"}
    assert Business.objects.get(pk=growth_subscription.business.pk).billing_status == Business.BillingStatus.PAST_DUE


def test_a_mistyped_subscription_from_the_stripe_api_is_not_applied(subscribed, fake_stripe):
    """Checkout reads the subscription back from Stripe; an answer of the wrong shape is set aside, not a 500."""
    odd = fake_stripe.add_subscription("sub_odd", customer="cus_A", price="price_growth_test")
    odd["current_period_end"] = "tomorrow"
    event = stripe_signing.checkout_completed(
        business_id=subscribed.business.pk, customer="cus_A", subscription="sub_odd", plan="growth"
    )
    response = post_stripe_event(event)
    assert response.json() == {"status": "checkout.session.completed"}
    business = Business.objects.get(pk=subscribed.business.pk)
    # What the session itself says is applied; the period Stripe's answer could not give is left as it was.
    assert (business.plan, business.stripe_subscription_id) == ("growth", "sub_odd")
    assert (business.current_period_start, business.current_period_end) == (
        subscribed.business.current_period_start, subscribed.business.current_period_end,
    )  # fmt: skip


# -- a seeded random sweep ------------------------------------------------------------------------------------------

# Strings Stripe's events and this service's billing hold, for junk to put in the wrong places.
STRIPE_WORDS = [
    "cus_A", "sub_A", "sub_G", "price_growth_test", "price_starter_test", "active", "canceled", "past_due", "trialing",
    "unpaid", "incomplete_expired", "starter", "growth", "free", "subscription", "payment", "id", "object", "customer",
    "status", "data", "price", "metadata", "plan", "items", *READERS,
]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_a_few_hundred_random_signed_events_never_get_a_500(growth_subscription, tenant_b, seed):
    rng = random.Random(seed)
    Business.objects.filter(pk=tenant_b.business.pk).update(stripe_customer_id="cus_B", plan="growth")
    other_before = _state(tenant_b.business.pk)
    stored_before = BillingWebhookEvent.objects.count()
    kinds = ["checkout", "created", "updated", "deleted", "failed", "paid", "other"]
    answers, applied = {}, 0
    with time_machine.travel(1_764_000_000, tick=False):
        for n in range(50):
            event = _base(rng.choice(kinds), growth_subscription.business)
            event["id"], event["created"] = f"evt_sweep_{seed}_{n}", 1_764_000_000 - n
            if rng.random() < 0.05:
                event = junk(rng, STRIPE_WORDS)
            else:
                event = mutated(rng, event, STRIPE_WORDS)
                if rng.random() < 0.15:
                    event["type"] = rng.choice(list(READERS))  # one object read as another type's
            body = json.dumps(event, separators=(",", ":"))
            # The test client raises an exception the view lets out, as well as answering it with a 500.
            response = post_stripe_event(None, body=body)
            assert response.status_code in (200, 400), (body[:2000], response.content)
            if response.status_code == 400:
                assert response.json()["error"]
            elif response.json()["status"] != "duplicate":
                applied += 1
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
    # Every 200 stored its event once; every 400 stored nothing.
    assert BillingWebhookEvent.objects.count() == stored_before + applied
    business = Business.objects.get(pk=growth_subscription.business.pk)
    assert business.plan in {"free", "starter", "growth"}
    assert business.billing_status in Business.BillingStatus.values
    # No event named tenant_b's customer, so nothing about it changed.
    assert _state(tenant_b.business.pk) == other_before
    # The sweep reached the handlers, not only the refusals.
    assert answers.get(200) and answers.get(400), answers
