"""Settings → Plan & usage: the plan, this period's texts against the quota, and the way to Stripe to pay."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.dashboard import can, dashboard_view

from . import billing
from .models import Business


def _return_url(request) -> str:
    return request.build_absolute_uri(reverse("dashboard:billing"))


@never_cache
@require_http_methods(["GET", "HEAD"])
@dashboard_view("billing")
def billing_page(request):
    business = request.business
    now = timezone.now()
    plan = billing.plan_for(business)
    used = billing.segments_used(business, now)
    period_start, period_end = billing.usage_period(business, now)
    outcome = request.GET.get("checkout")
    if outcome == "done":
        messages.success(request, "Thank you! Your new plan starts as soon as Stripe confirms the payment.")
    elif outcome == "cancelled":
        messages.info(request, "Checkout was cancelled; nothing was charged.")
    pause_at = billing.pause_date(business)
    return render(
        request,
        "dashboard/billing/page.html",
        {
            "section": "billing",
            "enabled": billing.billing_enabled(),
            "plan": plan,
            "plans": [billing.FREE, *billing.PAID_PLANS],
            "used": used,
            "remaining": max(0, plan.monthly_segments - used),
            "percent": min(100, round(100 * used / plan.monthly_segments)) if plan.monthly_segments else 100,
            "period_start": period_start,
            "period_end": period_end,
            # The period is [start, end): its last moment is what a person calls its last day.
            "period_last": period_end - timedelta(microseconds=1),
            "past_due": billing.billing_enabled() and business.billing_status == Business.BillingStatus.PAST_DUE,
            "pause_at": pause_at,
            "paused": billing.campaigns_paused(business, now),
            "can_manage": can(request, "billing", "change"),
            "has_customer": bool(business.stripe_customer_id),
        },
    )


@never_cache
@require_POST
@dashboard_view("billing", "change")
def billing_checkout(request):
    """Start Stripe Checkout for the chosen plan; Stripe takes the card on its own page."""
    try:
        url = billing.checkout_session_create(
            business=request.business,
            plan=request.POST.get("plan", "")[:32],
            user=request.user,
            return_url=_return_url(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dashboard:billing")
    except billing.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:billing")
    return redirect(url)


@never_cache
@require_POST
@dashboard_view("billing", "change")
def billing_portal(request):
    """Open Stripe's customer portal: change the card, see invoices, switch plan or cancel."""
    try:
        url = billing.portal_session_create(business=request.business, return_url=_return_url(request))
    except billing.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:billing")
    return redirect(url)
