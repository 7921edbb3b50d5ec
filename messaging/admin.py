from django.contrib import admin

from nextalerts.admin import ReadOnlyAdmin

from .models import Message, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "event_type", "event_id", "business", "outcome"]
    list_filter = ["business", "provider", "event_type", "outcome"]
    search_fields = ["event_id"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "business", "direction", "kind", "phone_number", "status", "campaign"]
    list_filter = ["business", "direction", "kind", "status"]
    search_fields = ["phone_number", "provider_message_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["campaign"]
