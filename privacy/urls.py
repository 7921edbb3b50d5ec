"""Public policy pages at the paths the consumer-facing pages link to, a material change's review page, and the
cookie settings."""

from django.urls import path

from . import views

urlpatterns = [
    path("privacy/", views.privacy_policy, name="privacy"),
    path("privacy/v<int:version>/", views.privacy_policy_version, name="privacy-version"),
    path("terms/", views.terms_of_service, name="terms"),
    path("terms/v<int:version>/", views.terms_of_service_version, name="terms-version"),
    path("policy-updates/<int:pk>/", views.policy_review, name="policy-review"),
    path("cookies/", views.cookie_settings, name="cookies"),
]
