"""POST /webhooks/stripe/: signed events move a business between plans; forged, stale and repeated ones change
nothing; an event about one Stripe customer never touches another business."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import billing
from accounts.models import BillingWebhookEvent, Business
from devtools.fakes import stripe_signing
from tests.helpers import STRIPE_PERIOD_END as PERIOD_END
from tests.helpers import STRIPE_PERIOD_START as PERIOD_START
from tests.helpers import post_stripe_event as post_event

Status = Business.BillingStatus


def subscription(event_type, *, customer="cus_A", sub="sub_A", price="price_starter_test", status="active", **kw):
    return stripe_signing.subscription_event(
        event_type, subscription_id=sub, customer=customer, price=price, status=status,
        period_start=PERIOD_START, period_end=PERIOD_END, **kw,
    )  # fmt: skip


def test_checkout_completed_moves_free_to_starter(subscribed, fake_stripe):
    business = subscribed.business
    assert (business.plan, business.billing_status) == ("starter", Status.ACTIVE)
    assert (business.stripe_customer_id, business.stripe_subscription_id) == ("cus_A", "sub_A")
    assert business.current_period_start.timestamp() == PERIOD_START
    assert business.current_period_end.timestamp() == PERIOD_END
    assert billing.plan_for(business) == billing.STARTER
    # The period came from Stripe, through the SDK.
    assert fake_stripe.requests_to("/v1/subscriptions/sub_A", method="GET")
    stored = BillingWebhookEvent.objects.get(provider="stripe")
    assert (stored.event_type, stored.outcome, stored.business) == (
        "checkout.session.completed", "checkout.session.completed", business,
    )  # fmt: skip


def test_the_whole_life_of_a_subscription(subscribed):
    """starter → growth → past due → paid again → cancelled (back to the free plan's limits)."""
    business = subscribed.business

    assert post_event(subscription("customer.subscription.updated", price="price_growth_test")).status_code == 200
    business.refresh_from_db()
    assert (billing.plan_for(business), business.billing_status) == (billing.GROWTH, Status.ACTIVE)

    failed = stripe_signing.invoice_event("invoice.payment_failed", customer="cus_A", subscription="sub_A")
    assert post_event(failed).status_code == 200
    business.refresh_from_db()
    assert business.billing_status == Status.PAST_DUE
    first_failure = business.payment_failed_at
    assert first_failure is not None
    assert billing.plan_for(business) == billing.GROWTH  # the plan's limits stay during the grace period
    assert not billing.campaigns_paused(business)
    assert billing.campaigns_paused(business, timezone.now() + timedelta(days=8))

    # Stripe retries the charge: the grace period still runs from the first failure.
    again = stripe_signing.invoice_event(
        "invoice.payment_failed", customer="cus_A", subscription="sub_A", created=int(time.time()) + 3600
    )
    post_event(again)
    business.refresh_from_db()
    assert business.payment_failed_at == first_failure

    assert (
        post_event(stripe_signing.invoice_event("invoice.paid", customer="cus_A", subscription="sub_A")).status_code
        == 200
    )
    business.refresh_from_db()
    assert (business.billing_status, business.payment_failed_at) == (Status.ACTIVE, None)

    deleted = subscription("customer.subscription.deleted", price="price_growth_test", status="canceled")
    assert post_event(deleted).status_code == 200
    business.refresh_from_db()
    assert (business.plan, business.billing_status, business.stripe_subscription_id) == ("free", Status.CANCELED, "")
    assert billing.plan_for(business) == billing.FREE
    # An invoice arriving late for the cancelled subscription does not bring it back.
    post_event(stripe_signing.invoice_event("invoice.paid", customer="cus_A", subscription="sub_A"))
    business.refresh_from_db()
    assert business.billing_status == Status.CANCELED


def test_subscription_status_past_due_and_unpaid(subscribed):
    post_event(subscription("customer.subscription.updated", status="past_due"))
    business = Business.objects.get(pk=subscribed.business.pk)
    assert business.billing_status == Status.PAST_DUE and business.payment_failed_at is not None


def test_forged_signature_is_refused_and_nothing_stored(subscribed):
    event = subscription("customer.subscription.deleted", status="canceled")
    body = stripe_signing.dumps(event)
    forged = stripe_signing.sign(body, secret="whsec_someone_else")
    assert post_event(event, headers=forged).status_code == 400
    assert post_event(event, headers={}).status_code == 400  # unsigned
    assert post_event(event, headers={"HTTP_STRIPE_SIGNATURE": "nonsense"}).status_code == 400
    # Signed, then changed on the way.
    tampered = body.replace('"canceled"', '"active"')
    assert post_event(event, headers=stripe_signing.sign(body), body=tampered).status_code == 400
    assert BillingWebhookEvent.objects.filter(provider="stripe").count() == 1  # the checkout only
    assert Business.objects.get(pk=subscribed.business.pk).plan == "starter"


def test_replayed_event_with_a_stale_timestamp_is_refused(subscribed):
    event = subscription("customer.subscription.deleted", status="canceled")
    body = stripe_signing.dumps(event)
    stale = stripe_signing.sign(body, timestamp=int(time.time()) - 3600)
    response = post_event(event, headers=stale, body=body)
    assert response.status_code == 400
    assert "tolerance" in response.json()["error"]
    assert not BillingWebhookEvent.objects.filter(event_id=event["id"]).exists()
    assert Business.objects.get(pk=subscribed.business.pk).plan == "starter"


def test_duplicate_event_id_is_applied_once(subscribed):
    failed = stripe_signing.invoice_event("invoice.payment_failed", customer="cus_A", subscription="sub_A")
    assert post_event(failed).status_code == 200
    business = Business.objects.get(pk=subscribed.business.pk)
    # The business pays; then Stripe redelivers the old failure, freshly signed.
    post_event(stripe_signing.invoice_event("invoice.paid", customer="cus_A", subscription="sub_A"))
    response = post_event(failed)
    assert response.status_code == 200 and response.json() == {"status": "duplicate"}
    business.refresh_from_db()
    assert business.billing_status == Status.ACTIVE
    assert BillingWebhookEvent.objects.filter(event_id=failed["id"]).count() == 1


def test_unknown_event_types_are_stored_and_ignored(subscribed):
    event = stripe_signing.event("customer.updated", {"id": "cus_A", "object": "customer"})
    response = post_event(event)
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert BillingWebhookEvent.objects.get(event_id=event["id"]).outcome == "ignored"


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"id": "evt_1"}', '{"id": "evt_1", "type": "invoice.paid", "data": {"object": 5}}'],
)
def test_signed_garbage_is_a_400(fake_stripe, db, body):
    assert post_event(None, body=body, headers=stripe_signing.sign(body)).status_code == 400
    assert not BillingWebhookEvent.objects.filter(provider="stripe").exists()


def test_no_secret_configured_asks_stripe_to_retry(settings, tenant_a):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = stripe_signing.invoice_event("invoice.paid", customer="cus_A", subscription="sub_A")
    assert post_event(event).status_code == 503
    assert not BillingWebhookEvent.objects.exists()


def test_get_is_not_allowed(db):
    assert Client().get(reverse("webhook-stripe")).status_code == 405


# --- Tenancy ----------------------------------------------------------------------------------------------------------


def test_event_for_another_customer_changes_only_that_business(subscribed, tenant_b):
    Business.objects.filter(pk=tenant_b.business.pk).update(
        stripe_customer_id="cus_B", plan="growth", billing_status=Status.ACTIVE
    )
    post_event(stripe_signing.invoice_event("invoice.payment_failed", customer="cus_B", subscription="sub_B"))
    a, b = Business.objects.get(pk=subscribed.business.pk), Business.objects.get(pk=tenant_b.business.pk)
    assert (a.billing_status, a.payment_failed_at) == (Status.ACTIVE, None)
    assert b.billing_status == Status.PAST_DUE
    post_event(subscription("customer.subscription.deleted", customer="cus_B", sub="sub_B", status="canceled"))
    a, b = Business.objects.get(pk=subscribed.business.pk), Business.objects.get(pk=tenant_b.business.pk)
    assert (a.plan, b.plan) == ("starter", "free")


def test_unknown_customer_changes_nothing(subscribed):
    response = post_event(stripe_signing.invoice_event("invoice.payment_failed", customer="cus_X", subscription="s"))
    assert response.json() == {"status": "unknown-customer"}
    assert Business.objects.get(pk=subscribed.business.pk).billing_status == Status.ACTIVE


def test_checkout_for_a_business_with_another_customer_is_refused(subscribed, tenant_b):
    Business.objects.filter(pk=tenant_b.business.pk).update(stripe_customer_id="cus_B")
    # A session naming tenant_b but paid by tenant_a's customer: not a session this service created for tenant_b.
    event = stripe_signing.checkout_completed(
        business_id=tenant_b.business.pk, customer="cus_A", subscription="sub_A", plan="growth"
    )
    assert post_event(event).json() == {"status": "customer-mismatch"}
    b = Business.objects.get(pk=tenant_b.business.pk)
    assert (b.plan, b.stripe_customer_id, b.billing_status) == ("free", "cus_B", Status.NONE)


ODD_OBJECTS = {
    "NUL": {"id": "obj\x00", "note": "a\x00b"},
    "lone surrogates": {"id": "obj\ud83d", "name\udc00": "\ud800"},
}


@pytest.mark.parametrize("obj", ODD_OBJECTS.values(), ids=ODD_OBJECTS.keys())
def test_a_signed_event_with_unstorable_characters_is_stored_without_an_error(fake_stripe, db, obj):
    response = post_event(stripe_signing.event("customer.created", obj, event_id="evt_\x00odd"))
    assert response.status_code == 200, response.content
    assert BillingWebhookEvent.objects.get(provider="stripe").event_id == "evt_odd"


def test_a_signed_event_nested_1000_deep_is_a_400(fake_stripe, db):
    body = stripe_signing.dumps(stripe_signing.event("customer.created", {"x": "DEEP"})).replace(
        '"DEEP"', "[" * 1000 + "]" * 1000
    )
    response = post_event(None, body=body)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]
    assert not BillingWebhookEvent.objects.exists()


@pytest.mark.parametrize(("ahead", "status"), [(0, 200), (30, 200), (120, 400), (301, 400), (3600, 400)])
def test_an_event_signed_minutes_in_the_future_is_refused(fake_stripe, db, ahead, status):
    now = 1_764_000_000
    with time_machine.travel(now, tick=False):
        body = stripe_signing.dumps(stripe_signing.event("customer.created", {"id": "cus_X"}))
        response = post_event(None, body=body, headers=stripe_signing.sign(body, timestamp=now + ahead))
    assert response.status_code == status, response.content
    if status == 400:
        assert "future" in response.json()["error"]
        assert not BillingWebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sessions_ended", [1, 2])
def test_an_event_whose_database_session_is_ended_mid_request(subscribed, sessions_ended, caplog):
    """A failover while an event is applied: it is applied again on a new connection (200), or, if that one is lost
    too, answered 503 with nothing stored, so Stripe sends it again. The event waits for the business's row, locked
    elsewhere, and its session is ended while it waits."""
    from django.db import connection

    from tests.helpers import answers_with_sessions_ended

    if connection.vendor != "postgresql":
        pytest.skip("ends the web process's session from a second one")
    business = subscribed.business
    event = stripe_signing.invoice_event("invoice.payment_failed", customer="cus_A", subscription="sub_A")
    answers = answers_with_sessions_ended(
        lambda: post_event(event), lock_sql="SELECT id FROM accounts_business WHERE id = %s FOR UPDATE",
        params=[business.pk], sessions_ended=sessions_ended,
    )  # fmt: skip

    assert "sms.webhook.reconnected" in caplog.messages
    business.refresh_from_db()
    failed = BillingWebhookEvent.objects.filter(provider="stripe", event_type="invoice.payment_failed")
    if sessions_ended == 1:
        assert [getattr(a, "status_code", a) for a in answers] == [200]
        assert failed.count() == 1 and business.payment_failed_at is not None
    else:
        [answer] = answers
        assert (answer.status_code, answer["Retry-After"]) == (503, "5")
        assert not failed.exists() and business.payment_failed_at is None
