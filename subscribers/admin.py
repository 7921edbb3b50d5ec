from django.contrib import admin

from .models import Keyword, SenderNumber, Subscriber, Tag


@admin.register(SenderNumber)
class SenderNumberAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "business", "messaging_profile_id", "messages_per_second"]
    list_filter = ["business"]
    search_fields = ["phone_number"]


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ["keyword", "number", "business", "is_active"]
    list_filter = ["business", "is_active"]
    search_fields = ["keyword"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "business"]
    list_filter = ["business"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Consent fields are read-only, and subscribers cannot be added here: only the consumer's text does that."""

    list_display = ["phone_number", "business", "status", "opt_in_method", "opted_in_at", "opted_out_at"]
    list_filter = ["business", "status", "opt_in_method"]
    search_fields = ["phone_number", "name", "email"]
    readonly_fields = [
        "business",
        "phone_number",
        "phone_hash",
        "status",
        "opt_in_method",
        "opted_in_at",
        "opted_out_at",
        "number",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["tags"]

    def has_add_permission(self, request):
        return False
