"""Settings → Plan & usage: the plan, usage against the quota, an overdue payment's warning, and the owner's buttons
to Stripe Checkout and the customer portal (through the real SDK against the fake Stripe server)."""

import html
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import billing
from accounts.models import Business

PAGE = reverse("dashboard:billing")
CHECKOUT = reverse("dashboard:billing-checkout")
PORTAL = reverse("dashboard:billing-portal")


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _subscribe(business, **fields):
    fields = {"plan": "starter", "billing_status": "active", "stripe_customer_id": "cus_A", **fields}
    Business.objects.filter(pk=business.pk).update(**fields)
    business.refresh_from_db()
    return business


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_every_member_sees_plan_and_usage(client, tenant_a, fake_stripe, role):
    billing.usage_record(business=tenant_a.business, segments=250, now=timezone.now())
    client.force_login(getattr(tenant_a, role).user)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert f'href="{PAGE}" aria-current="page"' in page
    text = _text(response)
    assert "Your plan: Free" in text
    assert "250 of 1,000 segments used, 750 left" in text
    assert '<rect width="25" height="1"/>' in page and 'aria-label="25% of this period' in page
    assert ("Upgrade to Starter" in text) == (role == "owner")
    assert ("Only owners can change the plan" in text) == (role != "owner")


def test_billing_off_says_so_and_shows_the_free_limits(client, tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    _subscribe(tenant_a.business, plan="growth")
    client.force_login(tenant_a.owner.user)
    text = _text(client.get(PAGE))
    assert "Billing is off on this server" in text
    assert "Your plan: Free" in text and "1,000 segments a month" in text
    assert "Upgrade" not in text and "Manage billing" not in text


def test_subscribed_owner_sees_the_plan_and_the_portal_button(client, tenant_a, fake_stripe):
    _subscribe(tenant_a.business, plan="growth")
    client.force_login(tenant_a.owner.user)
    text = _text(client.get(PAGE))
    assert "Your plan: Growth" in text and "Paid up" in text
    assert "Manage billing" in text
    assert "Upgrade to Starter" in text and "Upgrade to Growth" not in text


def test_past_due_shows_the_date_campaigns_pause(client, tenant_a, fake_stripe, settings):
    settings.BILLING_GRACE_DAYS = 7
    failed = timezone.now() - timedelta(days=2)
    _subscribe(tenant_a.business, billing_status="past_due", payment_failed_at=failed)
    client.force_login(tenant_a.member.user)
    text = _text(client.get(PAGE))
    pause = timezone.localtime(failed + timedelta(days=7), zoneinfo.ZoneInfo(tenant_a.business.time_zone))
    assert "A payment is overdue" in text
    assert "or campaigns pause on that day" in text
    assert f"{pause:%B} {pause.day}, {pause.year}" in text
    assert "Replies to STOP and HELP, and opt-in confirmations, are always sent" in text


def test_paused_campaigns_are_announced(client, tenant_a, fake_stripe):
    _subscribe(tenant_a.business, billing_status="past_due", payment_failed_at=timezone.now() - timedelta(days=9))
    client.force_login(tenant_a.owner.user)
    assert "Campaigns are paused since" in _text(client.get(PAGE))


def test_checkout_redirects_the_owner_to_stripe(client, tenant_a, fake_stripe):
    client.force_login(tenant_a.owner.user)
    response = client.post(CHECKOUT, {"plan": "growth"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/")
    [session] = fake_stripe.requests_to("/v1/checkout/sessions")
    assert session.params["line_items[0][price]"] == "price_growth_test"
    assert session.params["success_url"] == f"http://testserver{PAGE}?checkout=done"
    assert session.params["client_reference_id"] == str(tenant_a.business.pk)


def test_portal_redirects_the_owner_to_stripe(client, tenant_a, fake_stripe):
    fake_stripe.add_customer("cus_A")
    _subscribe(tenant_a.business)
    client.force_login(tenant_a.owner.user)
    response = client.post(PORTAL)
    assert response.status_code == 302 and response["Location"].startswith("https://billing.stripe.com/")
    [session] = fake_stripe.requests_to("/v1/billing_portal/sessions")
    assert session.params == {"customer": "cus_A", "return_url": f"http://testserver{PAGE}"}


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_may_go_to_stripe(client, tenant_a, fake_stripe, role):
    _subscribe(tenant_a.business)
    client.force_login(getattr(tenant_a, role).user)
    assert client.post(CHECKOUT, {"plan": "growth"}).status_code == 403
    assert client.post(PORTAL).status_code == 403
    assert not fake_stripe.state.requests


def test_actions_are_post_only(client, tenant_a, fake_stripe):
    client.force_login(tenant_a.owner.user)
    assert client.get(CHECKOUT).status_code == 405
    assert client.get(PORTAL).status_code == 405
    assert client.post(PAGE).status_code == 405


@pytest.mark.parametrize("plan", ["", "free", "platinum", "x" * 5000, "<script>", "1 OR 1=1"])
def test_bad_plans_give_a_message_not_an_error(client, tenant_a, fake_stripe, plan):
    client.force_login(tenant_a.owner.user)
    response = client.post(CHECKOUT, {"plan": plan}, follow=True)
    assert response.status_code == 200
    assert "Choose one of the paid plans" in _text(response)
    assert not fake_stripe.state.requests


def test_stripe_errors_are_shown_in_plain_words(client, tenant_a, fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    client.force_login(tenant_a.owner.user)
    response = client.post(CHECKOUT, {"plan": "starter"}, follow=True)
    assert "Stripe could not start the checkout" in _text(response)
    response = client.post(PORTAL, follow=True)
    assert "choose a plan first" in _text(response)


def test_billing_off_actions_say_so(client, tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(tenant_a.owner.user)
    assert "Billing is not set up" in _text(client.post(CHECKOUT, {"plan": "starter"}, follow=True))


@pytest.mark.parametrize("value", ["done", "cancelled", "garbage", "x" * 3000])
def test_return_from_checkout(client, tenant_a, fake_stripe, value):
    client.force_login(tenant_a.owner.user)
    response = client.get(PAGE, {"checkout": value})
    assert response.status_code == 200
    text = _text(response)
    assert ("Thank you!" in text) == (value == "done")
    assert ("nothing was charged" in text) == (value == "cancelled")


def test_logged_out_is_sent_to_log_in(client, db):
    assert client.get(PAGE).status_code == 302
    assert client.post(CHECKOUT).status_code == 302


# --- Tenancy ----------------------------------------------------------------------------------------------------------


def test_page_shows_only_the_current_business(client, tenant_a, tenant_b, fake_stripe):
    _subscribe(tenant_b.business, plan="growth", stripe_customer_id="cus_B", billing_status="past_due",
               payment_failed_at=timezone.now())  # fmt: skip
    billing.usage_record(business=tenant_b.business, segments=4321, now=timezone.now())
    billing.usage_record(business=tenant_a.business, segments=12, now=timezone.now())
    client.force_login(tenant_a.owner.user)
    text = _text(client.get(PAGE))
    assert "Your plan: Free" in text and "12 of 1,000" in text
    assert "4,321" not in text and "Growth" in text  # Growth only as an offer in the plans table
    assert "overdue" not in text


def test_portal_opens_only_the_current_business_customer(client, tenant_a, tenant_b, fake_stripe):
    fake_stripe.add_customer("cus_B")
    _subscribe(tenant_b.business, stripe_customer_id="cus_B")
    client.force_login(tenant_a.owner.user)
    response = client.post(PORTAL, {"customer": "cus_B", "business": tenant_b.business.pk}, follow=True)
    assert "choose a plan first" in _text(response)
    assert not fake_stripe.requests_to("/v1/billing_portal/sessions")


def test_query_count_does_not_grow_with_usage_history(client, tenant_a, fake_stripe):
    client.force_login(tenant_a.owner.user)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE)
    from datetime import UTC, datetime

    for month in range(1, 13):
        billing.usage_record(business=tenant_a.business, segments=5, now=datetime(2024, month, 5, tzinfo=UTC))
    with CaptureQueriesContext(connection) as many:
        client.get(PAGE)
    assert len(few) == len(many)


def test_the_usage_period_is_the_calendar_month_in_utc_whatever_the_business_time_zone(client, tenant_a):
    import time_machine

    client.force_login(tenant_a.owner.user)  # the business is in New York
    with time_machine.travel("2026-11-22 17:00:00+00:00"):
        html = client.get("/app/settings/billing/").content.decode()
    assert "(Nov 1 – Nov 30, 2026, UTC)" in html
