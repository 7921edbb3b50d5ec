"""The customer's own data in Settings: export it, delete the business, cancel a deletion before the purge."""

from django.urls import path

from . import dashboard

urlpatterns = [
    path("settings/data/", dashboard.data_page, name="data"),
    path("settings/data/export/", dashboard.data_export, name="data-export"),
    path("settings/data/delete/", dashboard.data_delete, name="data-delete"),
    path("settings/data/deletion/", dashboard.deletion_pending, name="data-deletion-pending"),
    path("settings/data/deletion/<int:pk>/cancel/", dashboard.deletion_cancel, name="data-deletion-cancel"),
]
