"""URL map: the REST API under /api/v1/, provider webhooks, the admin, and the OpenAPI schema and its reference."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from accounts import billing_webhooks
from campaigns import api as campaigns_api
from consent import api as consent_api
from messaging.webhooks import telnyx_webhook
from nextalerts import health, metrics
from nextalerts.api import ApiRootView
from subscribers import api as subscribers_api
from tracking import api as tracking_api
from web import clicks as tracking_clicks
from web import join as subscribers_views
from web import qr as tracking_views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("numbers", subscribers_api.NumberViewSet, basename="number")
router.register("keywords", subscribers_api.KeywordViewSet, basename="keyword")
router.register("subscribers", subscribers_api.SubscriberViewSet, basename="subscriber")
router.register("consent-events", consent_api.ConsentEventViewSet, basename="consent-event")
router.register("suppressions", consent_api.SuppressionViewSet, basename="suppression")
router.register("campaigns", campaigns_api.CampaignViewSet, basename="campaign")
router.register("messages", campaigns_api.MessageViewSet, basename="message")
router.register("qr-codes", tracking_api.QRCodeViewSet, basename="qr-code")


def not_found(request, exception=None):
    """An address nothing answers (with DEBUG off): JSON under /api/, as every API error is; the page elsewhere."""
    if request.path.startswith("/api/"):
        message = "Not found: nothing answers at this address; GET /api/v1/ lists what does."
        return JsonResponse({"error": message}, status=404)
    return page_not_found(request, exception)


handler404 = not_found


urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("api/v1/auth/signup/", accounts_api.SignupView.as_view(), name="auth-signup"),
    path("api/v1/auth/login/", accounts_api.LoginView.as_view(), name="auth-login"),
    path("api/v1/auth/logout/", accounts_api.LogoutView.as_view(), name="auth-logout"),
    # The QR images at the file-like addresses the API hands out (the router's own end in a slash).
    path(
        "api/v1/qr-codes/<int:pk>/image.svg",
        tracking_api.QRCodeViewSet.as_view({"get": "image_svg"}),
        name="qr-code-image-svg-file",
    ),
    path(
        "api/v1/qr-codes/<int:pk>/image.png",
        tracking_api.QRCodeViewSet.as_view({"get": "image_png"}),
        name="qr-code-image-png-file",
    ),
    path(
        "api/v1/",
        ApiRootView.as_view(resources={prefix: f"{basename}-list" for prefix, _viewset, basename in router.registry}),
        name="api-root",
    ),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The human-readable reference: Swagger UI over the schema, its files served from our own static files. The split
    # view serves its start-up script from /api/docs/?script rather than inline, so the page needs no CSP exception.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("webhooks/telnyx/", telnyx_webhook, name="webhook-telnyx"),
    path("webhooks/stripe/", billing_webhooks.stripe_webhook, name="webhook-stripe"),
    # Public pages for consumers: a QR code's target, a tracked link, the hosted opt-in form.
    path("q/<str:slug>", tracking_views.scan, name="qr-scan"),
    path("t/<str:code>", tracking_clicks.click, name="link-click"),
    path("join/<slug:slug>/", subscribers_views.join, name="join"),
    path("", include("privacy.urls")),
    # The dashboard: sign-up and log-in pages, then the business's pages under /app/.
    path("", include("accounts.urls")),
    path("app/", include("nextalerts.dashboard_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.liveness, name="health"),
    path("readyz", health.readiness, name="ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
