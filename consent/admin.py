from django.contrib import admin

from nextalerts.admin import ReadOnlyAdmin

from .models import ConsentEvent, Suppression


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    """The ledger, read-only: nobody adds, edits or deletes an event here."""

    list_display = ["occurred_at", "business", "phone_number", "kind", "method", "sequence"]
    list_filter = ["business", "kind", "method"]
    search_fields = ["phone_number", "provider_message_id"]
    date_hierarchy = "occurred_at"


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    """Read-only here: suppressions change only through consent services, which also write the ledger."""

    list_display = ["phone_number", "business", "reason", "created_at"]
    list_filter = ["business", "reason"]
    search_fields = ["phone_number"]
