"""QR codes, their scans and tracked-link clicks in the platform admin.

Codes are made by businesses (API); here a platform admin can rename one or switch it off, through the same service.
Scans and clicks are what happened: read-only.
"""

from django.contrib import admin

from nextalerts.admin import ReadOnlyAdmin

from . import services
from .models import Click, QRCode, Scan


@admin.register(QRCode)
class QRCodeAdmin(admin.ModelAdmin):
    list_display = ["label", "business", "number", "keyword", "ref", "is_active", "created_at"]
    list_filter = ["business", "is_active"]
    search_fields = ["label", "ref", "slug"]
    list_select_related = ["business", "number", "keyword"]
    fields = ["business", "number", "keyword", "label", "slug", "ref", "is_active", "created_at"]
    readonly_fields = ["business", "number", "keyword", "slug", "ref", "created_at"]

    def has_add_permission(self, request):
        return False  # a code needs a number and keyword of one business: made through the API

    def save_model(self, request, obj, form, change):
        services.qr_code_update(instance=obj, label=obj.label, is_active=obj.is_active)


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ["scanned_at", "business", "qr_code", "device_type", "os", "browser", "ip"]
    list_filter = ["business", "device_type"]
    search_fields = ["qr_code__label", "user_agent", "referrer"]
    list_select_related = ["business", "qr_code__keyword"]
    date_hierarchy = "scanned_at"


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ["clicked_at", "business", "campaign", "url", "is_preview"]
    list_filter = ["business", "is_preview"]
    search_fields = ["url", "user_agent"]
    list_select_related = ["business", "campaign"]
    date_hierarchy = "clicked_at"
