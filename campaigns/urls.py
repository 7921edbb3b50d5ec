"""Dashboard pages for campaigns, under /app/campaigns/ in the "dashboard" namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/measure/", views.campaign_measure, name="campaign-measure"),
    path("campaigns/draft/", views.campaign_draft, name="campaign-draft"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/stats/", views.campaign_stats_fragment, name="campaign-stats"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign-launch"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign-cancel"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign-delete"),
]
