"""Admin for policy documents: a draft version is edited here and published with an action; a published version's
text and details no longer change. Who has acknowledged a material change is counted on the document."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from .models import PolicyDocument
from .policy import policy_publish

DETAILS = ["kind", "version", "effective_on", "material", "changes", "template_name"]


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "effective_on", "material", "published_at", "notices", "acknowledged"]
    list_filter = ["kind", "material"]
    fields = [*DETAILS, "published_at", "notices", "emailed", "acknowledged"]
    actions = ["publish"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                notice_count=Count("notices"),
                emailed_count=Count("notices", filter=Q(notices__emailed_at__isnull=False)),
                acknowledged_count=Count("notices", filter=Q(notices__acknowledged_at__isnull=False)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        counts = ["published_at", "notices", "emailed", "acknowledged"]
        return [*DETAILS, *counts] if obj is not None and obj.published_at else counts

    @admin.display(description="Notices")
    def notices(self, obj):
        return getattr(obj, "notice_count", 0)

    @admin.display(description="Emailed")
    def emailed(self, obj):
        return getattr(obj, "emailed_count", 0)

    @admin.display(description="Acknowledged")
    def acknowledged(self, obj):
        return getattr(obj, "acknowledged_count", 0)

    def has_delete_permission(self, request, obj=None):
        # A published version is the record of what customers agreed to.
        return obj is not None and obj.published_at is None

    @admin.action(description="Publish the selected versions (a material change notifies every customer user)")
    def publish(self, request, queryset):
        for document in queryset:
            try:
                counts = policy_publish(document=document)
            except ValidationError as exc:
                self.message_user(request, f"{document}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            self.message_user(
                request, f"{document} published; {counts['notices']} notices, {counts['emailed']} emails sent."
            )
