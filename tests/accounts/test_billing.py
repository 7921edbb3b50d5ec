"""Plans, usage periods and counting, and Checkout / customer portal sessions through the real stripe SDK against
the fake Stripe server (no card data ever leaves the service: it has none)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from accounts import billing
from accounts.models import Business, SegmentUsage

Status = Business.BillingStatus
MID_JANUARY = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
RETURN_URL = "https://app.example.com/app/settings/billing/"


def _subscribe(business, plan="starter", status=Status.ACTIVE, **fields):
    for name, value in {"plan": plan, "billing_status": status, **fields}.items():
        setattr(business, name, value)
    business.save()
    return business


def test_billing_off_without_a_key_gives_everyone_the_free_limits(tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    business = _subscribe(tenant_a.business, plan="growth")
    assert not billing.billing_enabled()
    assert billing.plan_for(business) == billing.FREE
    assert billing.segments_remaining(business, MID_JANUARY) == billing.FREE.monthly_segments
    # Nothing can be paused by a bill that does not exist.
    _subscribe(business, status=Status.PAST_DUE, payment_failed_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert not billing.campaigns_paused(business, MID_JANUARY)
    with pytest.raises(billing.BillingError):
        billing.checkout_session_create(business=business, plan="starter", user=tenant_a.owner.user, return_url="/")


@pytest.mark.parametrize(
    ("plan", "status", "expected"),
    [
        ("free", Status.NONE, billing.FREE),
        ("starter", Status.ACTIVE, billing.STARTER),
        ("growth", Status.ACTIVE, billing.GROWTH),
        ("growth", Status.PAST_DUE, billing.GROWTH),  # limits stay during the grace period
        ("growth", Status.CANCELED, billing.FREE),
        ("no-such-plan", Status.ACTIVE, billing.FREE),
    ],
)
def test_plan_for(tenant_a, fake_stripe, plan, status, expected):
    assert billing.plan_for(_subscribe(tenant_a.business, plan=plan, status=status)) == expected


def test_plans_have_quotas_prices_and_price_ids(fake_stripe):
    assert billing.FREE.monthly_segments < billing.STARTER.monthly_segments < billing.GROWTH.monthly_segments
    assert billing.FREE.price_cents == 0 < billing.STARTER.price_cents < billing.GROWTH.price_cents
    assert (billing.STARTER.price_id, billing.GROWTH.price_id) == ("price_starter_test", "price_growth_test")
    assert billing.plan_for_price("price_growth_test") == billing.GROWTH
    assert billing.plan_for_price("") is None


def test_usage_period_is_the_calendar_month_on_the_free_plan(tenant_a):
    start, end = billing.usage_period(tenant_a.business, MID_JANUARY)
    assert (start, end) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    start, end = billing.usage_period(tenant_a.business, datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_usage_period_is_stripes_while_subscribed(tenant_a, fake_stripe):
    period = (datetime(2026, 1, 10, 8, tzinfo=UTC), datetime(2026, 2, 10, 8, tzinfo=UTC))
    business = _subscribe(tenant_a.business, current_period_start=period[0], current_period_end=period[1])
    assert billing.usage_period(business, MID_JANUARY) == period
    # A lapsed period (no renewal event yet) falls back to the calendar month rather than counting nowhere.
    assert billing.usage_period(business, datetime(2026, 3, 2, tzinfo=UTC))[0] == datetime(2026, 3, 1, tzinfo=UTC)


def test_usage_record_adds_up_per_period_and_per_business(tenant_a, tenant_b):
    billing.usage_record(business=tenant_a.business, segments=3, now=MID_JANUARY)
    billing.usage_record(business=tenant_a.business, segments=4, now=MID_JANUARY)
    billing.usage_record(business=tenant_a.business, segments=0, now=MID_JANUARY)
    billing.usage_record(business=tenant_a.business, segments=5, now=datetime(2026, 2, 3, tzinfo=UTC))
    billing.usage_record(business=tenant_b.business, segments=100, now=MID_JANUARY)
    assert billing.segments_used(tenant_a.business, MID_JANUARY) == 7
    assert billing.segments_used(tenant_a.business, datetime(2026, 2, 28, tzinfo=UTC)) == 5
    assert billing.segments_remaining(tenant_a.business, MID_JANUARY) == billing.FREE.monthly_segments - 7
    assert SegmentUsage.objects.filter(business=tenant_a.business).count() == 2


def test_usage_record_is_one_update_once_the_period_exists(tenant_a, django_assert_num_queries):
    billing.usage_record(business=tenant_a.business, segments=1, now=MID_JANUARY)
    with django_assert_num_queries(1):
        billing.usage_record(business=tenant_a.business, segments=2, now=MID_JANUARY)


# --- Checkout and the customer portal, through the SDK ----------------------------------------------------------------


def test_checkout_creates_a_customer_and_a_session(tenant_a, fake_stripe):
    url = billing.checkout_session_create(
        business=tenant_a.business, plan="starter", user=tenant_a.owner.user, return_url=RETURN_URL
    )
    assert url.startswith("https://checkout.stripe.com/")
    [customer_request] = fake_stripe.requests_to("/v1/customers")
    assert customer_request.params["email"] == tenant_a.owner.user.email
    assert customer_request.params["metadata[business_id]"] == str(tenant_a.business.pk)
    tenant_a.business.refresh_from_db()
    customer = tenant_a.business.stripe_customer_id
    assert customer.startswith("cus_")

    [session] = fake_stripe.requests_to("/v1/checkout/sessions")
    assert session.headers["Authorization"] == "Bearer sk_test_fake"
    params = session.params
    assert params["mode"] == "subscription"
    assert params["customer"] == customer
    assert params["client_reference_id"] == str(tenant_a.business.pk)
    assert params["line_items[0][price]"] == "price_starter_test"
    assert params["line_items[0][quantity]"] == "1"
    assert params["success_url"] == RETURN_URL + "?checkout=done"
    assert params["cancel_url"] == RETURN_URL + "?checkout=cancelled"
    assert params["metadata[plan]"] == "starter"
    # Stripe's page takes the card: nothing about one is ever sent from here.
    for request in fake_stripe.state.requests:
        assert not any(word in key for key in request.params for word in ("card", "number", "cvc", "exp_"))


def test_checkout_reuses_the_customer_on_file(tenant_a, fake_stripe):
    fake_stripe.add_customer("cus_known")
    Business.objects.filter(pk=tenant_a.business.pk).update(stripe_customer_id="cus_known")
    tenant_a.business.refresh_from_db()
    billing.checkout_session_create(business=tenant_a.business, plan="growth", user=tenant_a.owner.user,
                                    return_url=RETURN_URL)  # fmt: skip
    assert fake_stripe.requests_to("/v1/customers/cus_known", method="GET")
    assert not fake_stripe.requests_to("/v1/customers")
    [session] = fake_stripe.requests_to("/v1/checkout/sessions")
    assert (session.params["customer"], session.params["line_items[0][price]"]) == ("cus_known", "price_growth_test")


def test_checkout_replaces_a_customer_stripe_no_longer_has(tenant_a, fake_stripe):
    Business.objects.filter(pk=tenant_a.business.pk).update(stripe_customer_id="cus_gone")
    tenant_a.business.refresh_from_db()
    billing.checkout_session_create(business=tenant_a.business, plan="starter", user=tenant_a.owner.user,
                                    return_url=RETURN_URL)  # fmt: skip
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.stripe_customer_id not in ("", "cus_gone")


@pytest.mark.parametrize("plan", ["free", "", "platinum", "x" * 500])
def test_checkout_refuses_plans_that_cannot_be_bought(tenant_a, fake_stripe, plan):
    with pytest.raises(ValidationError):
        billing.checkout_session_create(business=tenant_a.business, plan=plan, user=tenant_a.owner.user,
                                        return_url=RETURN_URL)  # fmt: skip
    assert not fake_stripe.state.requests


def test_checkout_without_a_configured_price_says_so(tenant_a, fake_stripe, settings):
    settings.STRIPE_PRICE_GROWTH = ""
    with pytest.raises(billing.BillingError, match="no Stripe price"):
        billing.checkout_session_create(business=tenant_a.business, plan="growth", user=tenant_a.owner.user,
                                        return_url=RETURN_URL)  # fmt: skip


def test_stripe_unreachable_is_a_billing_error(tenant_a, fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"  # the fake answers 401
    with pytest.raises(billing.BillingError, match="try again"):
        billing.checkout_session_create(business=tenant_a.business, plan="starter", user=tenant_a.owner.user,
                                        return_url=RETURN_URL)  # fmt: skip


def test_portal_session_for_the_business_customer(tenant_a, fake_stripe):
    fake_stripe.add_customer("cus_A")
    _subscribe(tenant_a.business, stripe_customer_id="cus_A")
    url = billing.portal_session_create(business=tenant_a.business, return_url=RETURN_URL)
    assert url.startswith("https://billing.stripe.com/")
    [request] = fake_stripe.requests_to("/v1/billing_portal/sessions")
    assert request.params == {"customer": "cus_A", "return_url": RETURN_URL}


def test_portal_needs_a_customer(tenant_a, fake_stripe):
    with pytest.raises(billing.BillingError, match="choose a plan"):
        billing.portal_session_create(business=tenant_a.business, return_url=RETURN_URL)
    assert not fake_stripe.state.requests
