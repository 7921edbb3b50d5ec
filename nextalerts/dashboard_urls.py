"""The dashboard's pages, all under the "dashboard" namespace and /app/; each app lists its own."""

from django.urls import include, path

app_name = "dashboard"

urlpatterns = [
    path("", include("web.urls")),  # overview, compliance, phone simulator
    path("", include("web.subscriber_urls")),  # subscribers, inbox, numbers and keywords
    path("", include("campaigns.urls")),  # campaigns
    path("", include("tracking.dashboard_urls")),  # QR codes
    path("", include("accounts.dashboard_urls")),  # settings: business, team, API tokens
    path("", include("privacy.dashboard_urls")),  # settings: your data (export, account deletion)
    path("", include("accounts.billing_urls")),  # settings: plan, usage and billing
]
