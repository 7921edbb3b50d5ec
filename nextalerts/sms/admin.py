from django.contrib import admin

from nextalerts.admin import ReadOnlyAdmin

from .models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "event_type", "event_id", "business", "outcome"]
    list_filter = ["business", "provider", "event_type", "outcome"]
    search_fields = ["event_id"]
