from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "business", "direction", "kind", "phone_number", "status"]
    list_filter = ["business", "direction", "kind", "status"]
    search_fields = ["phone_number", "provider_message_id"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the message history is evidence; retention jobs remove it, not people
