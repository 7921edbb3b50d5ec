"""Settings pages under /app/settings/: the business profile, the team and invitations, API tokens, your account."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/<int:pk>/role/", views.team_role, name="team-role"),
    path("settings/team/<int:pk>/remove/", views.team_remove, name="team-remove"),
    path("settings/team/invitations/<int:pk>/cancel/", views.invitation_cancel, name="invitation-cancel"),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/account/", views.account, name="account"),
    path("settings/account/email/<str:token>/", views.account_email_confirm, name="account-email-confirm"),
    path("settings/tokens/<str:key>/revoke/", views.token_revoke, name="token-revoke"),
    path("switch-business/", views.switch_business, name="switch-business"),
]
