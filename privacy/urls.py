"""Public policy pages, at the paths the consumer-facing pages link to."""

from django.urls import path

from . import views

urlpatterns = [
    path("privacy/", views.privacy_policy, name="privacy"),
    path("terms/", views.terms_of_service, name="terms"),
]
