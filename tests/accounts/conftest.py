import pytest

from devtools.fakes import stripe_signing
from tests.helpers import STRIPE_PERIOD_END, STRIPE_PERIOD_START, post_stripe_event


@pytest.fixture
def subscribed(tenant_a, fake_stripe):
    """tenant_a after a finished Checkout for the Starter plan (Stripe customer cus_A, subscription sub_A)."""
    fake_stripe.add_customer("cus_A")
    fake_stripe.add_subscription(
        "sub_A", customer="cus_A", price="price_starter_test", period_start=STRIPE_PERIOD_START,
        period_end=STRIPE_PERIOD_END,
    )  # fmt: skip
    event = stripe_signing.checkout_completed(
        business_id=tenant_a.business.pk, customer="cus_A", subscription="sub_A", plan="starter"
    )
    assert post_stripe_event(event).status_code == 200
    tenant_a.business.refresh_from_db()
    return tenant_a
