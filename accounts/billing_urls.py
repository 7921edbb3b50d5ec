"""Settings → Plan & usage, under /app/settings/billing/."""

from django.urls import path

from . import billing_views

urlpatterns = [
    path("settings/billing/", billing_views.billing_page, name="billing"),
    path("settings/billing/checkout/", billing_views.billing_checkout, name="billing-checkout"),
    path("settings/billing/portal/", billing_views.billing_portal, name="billing-portal"),
]
