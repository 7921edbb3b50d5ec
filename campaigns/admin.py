from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Campaigns are written and launched by businesses; platform admins can look, and cancel one that must stop."""

    list_display = ["name", "business", "status", "send_at", "launched_at", "audience_size", "created_at"]
    list_filter = ["business", "status"]
    search_fields = ["name", "body"]
    date_hierarchy = "created_at"
    actions = ["cancel_campaigns"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["tags"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel: stop every message not yet handed to the provider")
    def cancel_campaigns(self, request, queryset):
        for campaign in queryset:
            try:
                services.campaign_cancel(campaign=campaign)
            except ValidationError as exc:
                self.message_user(request, f"{campaign}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                self.message_user(request, f"{campaign}: cancelled.")
