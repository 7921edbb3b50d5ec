from django.contrib import admin

from .models import ConsentEvent, Suppression


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """The ledger, read-only: nobody adds, edits or deletes an event here."""

    list_display = ["occurred_at", "business", "phone_number", "kind", "method", "sequence"]
    list_filter = ["business", "kind", "method"]
    search_fields = ["phone_number", "provider_message_id"]
    date_hierarchy = "occurred_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Read-only here: suppressions change only through consent services, which also write the ledger."""

    list_display = ["phone_number", "business", "reason", "created_at"]
    list_filter = ["business", "reason"]
    search_fields = ["phone_number"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
