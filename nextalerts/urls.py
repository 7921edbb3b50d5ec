"""URL map: the REST API under /api/v1/, provider webhooks, the admin, and the OpenAPI schema."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from campaigns import api as campaigns_api
from consent import api as consent_api
from nextalerts.sms.webhooks import telnyx_webhook
from subscribers import api as subscribers_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("numbers", subscribers_api.NumberViewSet, basename="number")
router.register("keywords", subscribers_api.KeywordViewSet, basename="keyword")
router.register("subscribers", subscribers_api.SubscriberViewSet, basename="subscriber")
router.register("consent-events", consent_api.ConsentEventViewSet, basename="consent-event")
router.register("suppressions", consent_api.SuppressionViewSet, basename="suppression")
router.register("campaigns", campaigns_api.CampaignViewSet, basename="campaign")
router.register("messages", campaigns_api.MessageViewSet, basename="message")


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("api/v1/auth/signup/", accounts_api.SignupView.as_view(), name="auth-signup"),
    path("api/v1/auth/login/", accounts_api.LoginView.as_view(), name="auth-login"),
    path("api/v1/auth/logout/", accounts_api.LogoutView.as_view(), name="auth-logout"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("webhooks/telnyx/", telnyx_webhook, name="webhook-telnyx"),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
]
