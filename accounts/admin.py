from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from consent import replies
from nextalerts.admin import ReadOnlyAdmin

from . import services
from .forms import AdminLoginForm
from .models import ApiToken, AuditEvent, BillingWebhookEvent, Business, Invitation, Membership, User

# The admin's log-in shares the dashboard's and the API's lock, and says so when it holds.
admin.site.login_form = AdminLoginForm
# A staff member's own new password ended their tokens and other sessions (User.save): the page says so.
admin.site.password_change_done_template = "accounts/admin_password_change_done.html"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "memberships__business"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "confirmed_age_at", "accepted_terms_at"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["confirmed_age_at", "accepted_terms_at", "last_login", "date_joined"]

    def user_change_password(self, request, id, form_url=""):
        # Saving the new (or switched-off) password revokes the tokens (User.save); say so, and audit-log it.
        user = self.get_object(request, unquote(id))  # None for an id that is no user's: super() answers 404
        if request.method != "POST" or user is None:
            return super().user_change_password(request, id, form_url)
        before, tokens_before = user.password, ApiToken.objects.filter(user=user).count()
        response = super().user_change_password(request, id, form_url)
        user.refresh_from_db(fields=["password"])
        if user.password != before:
            revoked = tokens_before - ApiToken.objects.filter(user=user).count()
            services.password_set_by_admin_record(user=user, tokens_revoked=revoked, request=request)
            tokens = "their API token was revoked" if revoked == 1 else f"their {revoked} API tokens were revoked"
            self.message_user(request, f"Their other sessions were signed out and {tokens}.", messages.SUCCESS)
        return response


class BusinessAdminForm(forms.ModelForm):
    """The HELP reply keeps the disclosures carriers require, whoever edits it."""

    class Meta:
        model = Business
        fields = [
            "name", "slug", "status", "address", "phone", "support_contact", "help_text", "time_zone",
            "marketing_messages_per_day",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("help_text") or "").strip()
        if text:
            candidate = Business(**{k: v for k, v in cleaned.items() if k in {"name", "phone", "support_contact"}})
            problems = replies.help_text_problems(text, business=candidate)
            if problems:
                self.add_error("help_text", "The HELP reply must " + "; ".join(problems) + ".")
        return cleaned


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    form = BusinessAdminForm
    list_display = ["name", "slug", "status", "time_zone", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business", "role", "created_at"]
    list_filter = ["business", "role"]
    autocomplete_fields = ["user", "business"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are shown by their public prefix only; the secret is never stored. Deleting one revokes it."""

    list_display = ["token_key", "name", "user", "business", "created", "expiry"]
    list_filter = ["business"]
    fields = ["token_key", "name", "user", "business", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are created by owners in the dashboard; the link's token is stored as a digest only."""

    list_display = ["email", "business", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["business", "role"]
    search_fields = ["email"]
    fields = ["email", "business", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The security audit log: read-only for everyone, superusers included; old events are removed by the retention
    job only."""

    list_display = ["occurred_at", "action", "actor_email", "business", "ip", "target"]
    list_filter = ["action", "business"]
    search_fields = ["actor_email", "target", "ip"]
    date_hierarchy = "occurred_at"
    list_select_related = ["business"]
    fields = ["occurred_at", "action", "actor", "actor_email", "business", "ip", "target", "details"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingWebhookEvent)
class BillingWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_type", "event_id", "business", "outcome"]
    list_filter = ["business", "event_type", "outcome"]
    search_fields = ["event_id"]
