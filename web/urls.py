"""The overview, compliance, and the phone simulator (local demos only)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/verify/", views.compliance_verify, name="compliance-verify"),
    path("compliance/do-not-text/", views.suppressions, name="suppressions"),
    path("compliance/do-not-text/<int:pk>/remove/", views.suppression_remove, name="suppression-remove"),
    path("compliance/evidence/", views.evidence_export, name="evidence-export"),
    path("simulator/", views.simulator_page, name="simulator"),
    path("simulator/conversation/", views.simulator_conversation, name="simulator-conversation"),
]
