"""Plans, message-segment quotas and Stripe subscriptions: Checkout to subscribe, the customer portal to change card or
cancel, and the webhook events that keep a business's plan and status in step. Card numbers only ever reach Stripe.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .billing_events import StripeEvent, Subscription, UnusableEvent, subscription_read
from .models import Business, SegmentUsage

logger = logging.getLogger(__name__)

Status = Business.BillingStatus


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    monthly_segments: int
    price_cents: int  # per month, US dollars
    price_setting: str = ""  # the setting holding the plan's Stripe price id; empty for the free plan

    @property
    def price_id(self) -> str:
        return getattr(settings, self.price_setting, "") if self.price_setting else ""

    @property
    def paid(self) -> bool:
        return self.price_cents > 0

    @property
    def price_display(self) -> str:
        return "Free" if not self.paid else f"${self.price_cents / 100:,.0f} a month"


FREE = Plan("free", "Free", monthly_segments=1_000, price_cents=0)
STARTER = Plan("starter", "Starter", monthly_segments=10_000, price_cents=2_900, price_setting="STRIPE_PRICE_STARTER")
GROWTH = Plan("growth", "Growth", monthly_segments=50_000, price_cents=9_900, price_setting="STRIPE_PRICE_GROWTH")
PLANS = {plan.key: plan for plan in (FREE, STARTER, GROWTH)}
PAID_PLANS = [STARTER, GROWTH]

# Stripe subscription statuses, as our billing status. "incomplete" (first payment not made yet) changes nothing.
SUBSCRIPTION_STATUSES = {
    "active": Status.ACTIVE,
    "trialing": Status.ACTIVE,
    "past_due": Status.PAST_DUE,
    "unpaid": Status.PAST_DUE,
    "canceled": Status.CANCELED,
    "incomplete_expired": Status.CANCELED,
}


class BillingError(Exception):
    """Stripe could not be reached or refused; the message is fit to show an owner."""


def billing_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def quotas_enforced() -> bool:
    # Off only for load tests that launch audiences far beyond any plan; never set in production.
    return getattr(settings, "BILLING_QUOTAS_ENFORCED", True)


def plan_for(business: Business) -> Plan:
    """The plan whose limits apply: the subscribed one while the subscription is active or past due, else Free."""
    if not billing_enabled():
        return FREE
    if business.billing_status in (Status.ACTIVE, Status.PAST_DUE):
        return PLANS.get(business.plan, FREE)
    return FREE


def plan_for_price(price_id: str) -> Plan | None:
    return next((plan for plan in PAID_PLANS if price_id and plan.price_id == price_id), None)


def usage_period(business: Business, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period usage counts in: the Stripe billing period while subscribed, else the calendar month (UTC)."""
    now = now or timezone.now()
    start, end = business.current_period_start, business.current_period_end
    if plan_for(business).paid and start and end and start <= now < end:
        return start, end
    utc = now.astimezone(UTC)
    start = datetime(utc.year, utc.month, 1, tzinfo=UTC)
    days = calendar.monthrange(utc.year, utc.month)[1]
    return start, start + timedelta(days=days)


def segments_used(business: Business, now: datetime | None = None) -> int:
    start, _end = usage_period(business, now)
    used = SegmentUsage.objects.filter(business=business, period_start=start).values_list("segments", flat=True)
    return next(iter(used), 0)


def segments_remaining(business: Business, now: datetime | None = None) -> int:
    return max(0, plan_for(business).monthly_segments - segments_used(business, now))


def usage_record(*, business: Business, segments: int, now: datetime | None = None) -> None:
    """Add segments handed to the provider to the period's count: one UPDATE (an INSERT the first time a period)."""
    if segments <= 0:
        return
    start, end = usage_period(business, now)
    rows = SegmentUsage.objects.filter(business_id=business.pk, period_start=start)
    if rows.update(segments=F("segments") + segments):
        return
    try:
        with transaction.atomic():
            SegmentUsage.objects.create(business_id=business.pk, period_start=start, period_end=end, segments=segments)
    except IntegrityError:
        # Another worker created the row first.
        rows.update(segments=F("segments") + segments)


def campaigns_paused(business: Business, now: datetime | None = None) -> bool:
    """Past due for longer than the grace period: campaigns wait. Consent replies never do (see consent.policy)."""
    return pause_date(business) is not None and (now or timezone.now()) >= pause_date(business)


def pause_date(business: Business) -> datetime | None:
    """When a past-due business's campaigns pause (or paused); None when nothing is overdue."""
    if not billing_enabled() or business.billing_status != Status.PAST_DUE or business.payment_failed_at is None:
        return None
    return business.payment_failed_at + timedelta(days=settings.BILLING_GRACE_DAYS)


# --- Stripe -----------------------------------------------------------------------------------------------------------


def _client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=1)


def _customer_id(client: stripe.StripeClient, *, business: Business, user) -> str:
    """The business's Stripe customer: the one on file if Stripe still has it, else a new one."""
    if business.stripe_customer_id:
        try:
            customer = client.v1.customers.retrieve(business.stripe_customer_id)
        except stripe.InvalidRequestError:
            customer = None
        if customer is not None and not customer.to_dict().get("deleted"):
            return customer.id
    customer = client.v1.customers.create(
        params={
            "name": business.name,
            "email": getattr(user, "email", "") or None,
            "metadata": {"business_id": str(business.pk)},
        }
    )
    Business.objects.filter(pk=business.pk).update(stripe_customer_id=customer.id)
    business.stripe_customer_id = customer.id
    return customer.id


def checkout_session_create(*, business: Business, plan: str, user, return_url: str) -> str:
    """A Stripe Checkout page where the owner subscribes to `plan`; returns its URL. Stripe takes the card."""
    if not billing_enabled():
        raise BillingError("Billing is not set up on this server.")
    chosen = PLANS.get(plan)
    if chosen is None or not chosen.paid:
        raise ValidationError({"plan": "Choose one of the paid plans."})
    if not chosen.price_id:
        raise BillingError(f"The {chosen.name} plan has no Stripe price configured.")
    if plan_for(business) == chosen:
        raise ValidationError({"plan": f"You are already on the {chosen.name} plan."})
    separator = "&" if "?" in return_url else "?"
    metadata = {"business_id": str(business.pk), "plan": chosen.key}
    try:
        client = _client()
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": _customer_id(client, business=business, user=user),
                "client_reference_id": str(business.pk),
                "line_items": [{"price": chosen.price_id, "quantity": 1}],
                "success_url": f"{return_url}{separator}checkout=done",
                "cancel_url": f"{return_url}{separator}checkout=cancelled",
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
        )
    except stripe.StripeError as exc:
        logger.warning("billing.checkout.failed", extra={"business_id": business.pk, "error": str(exc)[:200]})
        raise BillingError("Stripe could not start the checkout; please try again in a minute.") from exc
    return session.url


def portal_session_create(*, business: Business, return_url: str) -> str:
    """A Stripe customer portal page to change the card, see invoices or cancel; returns its URL."""
    if not billing_enabled():
        raise BillingError("Billing is not set up on this server.")
    if not business.stripe_customer_id:
        raise BillingError("There is no subscription to manage yet: choose a plan first.")
    try:
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": business.stripe_customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        logger.warning("billing.portal.failed", extra={"business_id": business.pk, "error": str(exc)[:200]})
        raise BillingError("Stripe could not open the billing portal; please try again in a minute.") from exc
    return session.url


# --- Webhook events ---------------------------------------------------------------------------------------------------


def _by_customer(customer: str) -> Business | None:
    if not customer:
        return None
    return Business.objects.select_for_update().filter(stripe_customer_id=customer).first()


def _subscription_apply(business: Business, subscription: Subscription, *, event_time: datetime) -> None:
    status = SUBSCRIPTION_STATUSES.get(subscription.status)
    if status is None:
        return
    if status == Status.CANCELED:
        _cancel(business)
        return
    plan = plan_for_price(subscription.price) or PLANS.get(subscription.plan)
    if plan is not None and plan.paid:
        business.plan = plan.key
    business.stripe_subscription_id = subscription.id
    business.current_period_start, business.current_period_end = subscription.period_start, subscription.period_end
    business.billing_status = status
    if status == Status.PAST_DUE:
        business.payment_failed_at = business.payment_failed_at or event_time
    else:
        business.payment_failed_at = None


def _cancel(business: Business) -> None:
    business.plan = FREE.key
    business.billing_status = Status.CANCELED
    business.stripe_subscription_id = ""
    business.payment_failed_at = None
    business.current_period_start = business.current_period_end = None


BILLING_FIELDS = [
    "plan", "billing_status", "stripe_customer_id", "stripe_subscription_id", "payment_failed_at",
    "current_period_start", "current_period_end",
]  # fmt: skip


def billing_event_apply(event: StripeEvent) -> tuple[str, Business | None]:
    """Apply a verified Stripe event (read by billing_events.stripe_event_read) to the business it concerns.
    Returns (outcome, business).

    The business is found by the Stripe customer on file (or, for a finished Checkout, by the business id this
    service put in the session), so an event about one customer never changes another business.
    """
    kind, obj = event.type, event.object  # obj is the CheckoutSession, Subscription or Invoice the type carries
    event_time = event.created or timezone.now()
    with transaction.atomic():
        if kind == "checkout.session.completed":
            business = None
            if obj.business_id is not None:
                business = Business.objects.select_for_update().filter(pk=obj.business_id).first()
            if business is None or obj.mode != "subscription":
                return "ignored", None
            if business.stripe_customer_id and obj.customer != business.stripe_customer_id:
                # A session this service created carries the business's own customer; anything else is not ours.
                logger.warning("billing.webhook.customer-mismatch", extra={"business_id": business.pk})
                return "customer-mismatch", business
            business.stripe_customer_id = obj.customer or business.stripe_customer_id
            plan = PLANS.get(obj.plan)
            if plan is not None and plan.paid:
                business.plan = plan.key
            business.billing_status = Status.ACTIVE
            business.payment_failed_at = None
            if obj.subscription:
                business.stripe_subscription_id = obj.subscription
                subscription = _subscription_fetch(obj.subscription)
                if subscription is not None:
                    _subscription_apply(business, subscription, event_time=event_time)
        elif kind in ("customer.subscription.created", "customer.subscription.updated"):
            business = _by_customer(obj.customer)
            if business is None:
                return "unknown-customer", None
            if business.stripe_subscription_id and obj.id != business.stripe_subscription_id:
                if obj.status not in ("active", "trialing"):
                    # An old or abandoned subscription of the same customer: the current one decides.
                    return "other-subscription", business
            _subscription_apply(business, obj, event_time=event_time)
        elif kind == "customer.subscription.deleted":
            business = _by_customer(obj.customer)
            if business is None:
                return "unknown-customer", None
            if business.stripe_subscription_id and obj.id != business.stripe_subscription_id:
                return "other-subscription", business
            _cancel(business)
        elif kind == "invoice.paid":
            business = _by_customer(obj.customer)
            if business is None:
                return "unknown-customer", None
            if business.billing_status == Status.CANCELED:
                return "ignored", business
            business.billing_status = Status.ACTIVE
            business.payment_failed_at = None
        elif kind == "invoice.payment_failed":
            business = _by_customer(obj.customer)
            if business is None:
                return "unknown-customer", None
            if business.billing_status == Status.CANCELED:
                return "ignored", business
            business.billing_status = Status.PAST_DUE
            # The grace period runs from the first failure, not from each retry.
            business.payment_failed_at = business.payment_failed_at or event_time
        else:
            return "ignored", None
        business.save(update_fields=BILLING_FIELDS)
    logger.info("billing.event.applied", extra={"business_id": business.pk, "type": kind, "plan": business.plan})
    return kind, business


def _subscription_fetch(subscription_id: str) -> Subscription | None:
    """The subscription from Stripe (for its plan and period); None when Stripe cannot say right now, or answers
    with something that is not a subscription we can read."""
    if not billing_enabled():
        return None
    try:
        return subscription_read(_client().v1.subscriptions.retrieve(subscription_id).to_dict(), "the subscription")
    except stripe.StripeError as exc:
        logger.warning("billing.subscription.fetch-failed", extra={"error": str(exc)[:200]})
    except UnusableEvent as exc:  # its period or plan unknown: what the session said is applied, the rest waits
        logger.warning(
            "billing.subscription.unreadable", extra={"subscription_id": subscription_id, "reason": str(exc)}
        )
    return None
