"""Dashboard pages: subscribers, the inbox, numbers and keywords."""

from django.urls import path

from . import subscriber_pages as dashboard

urlpatterns = [
    path("subscribers/", dashboard.subscriber_list, name="subscribers"),
    path("subscribers/export.csv", dashboard.subscriber_export, name="subscribers-export"),
    path("subscribers/<int:pk>/", dashboard.subscriber_detail, name="subscriber"),
    path("inbox/", dashboard.inbox, name="inbox"),
    path("inbox/reply/", dashboard.inbox_reply, name="inbox-reply"),
    path("numbers/", dashboard.number_list, name="numbers"),
    path("numbers/help-reply/", dashboard.help_reply_edit, name="help-reply"),
    path("numbers/new/", dashboard.number_create, name="number-create"),
    path("numbers/<int:pk>/edit/", dashboard.number_edit, name="number-edit"),
    path("numbers/<int:pk>/delete/", dashboard.number_delete, name="number-delete"),
    path("keywords/new/", dashboard.keyword_create, name="keyword-create"),
    path("keywords/<int:pk>/edit/", dashboard.keyword_edit, name="keyword-edit"),
    path("keywords/<int:pk>/delete/", dashboard.keyword_delete, name="keyword-delete"),
]
