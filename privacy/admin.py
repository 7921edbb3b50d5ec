"""Subscribers' access and deletion requests, handled by platform admins; a customer's own requests, for the record."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from nextalerts.phones import InvalidPhoneNumber, to_e164

from . import (
    admin_policy,  # noqa: F401  (registers the policy documents' admin)
    services,
)
from .models import DataRequest, DataRequestEvent


class DataRequestEventInline(admin.TabularInline):
    model = DataRequestEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "action", "actor", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DataRequestOpenForm(forms.ModelForm):
    class Meta:
        model = DataRequest
        fields = ["kind", "phone_number", "business", "note"]
        help_texts = {
            "phone_number": "The subscriber's number, e.g. +12025550143 or (202) 555-0143.",
            "business": "Leave empty to cover every business the number has dealt with.",
            "note": "How the request came in (email, letter, a business passing it on) and how the person was verified "
            "as the holder of the number. Don't paste the number here.",
        }

    def clean_phone_number(self):
        try:
            return to_e164(self.cleaned_data.get("phone_number") or "")
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from exc

    def clean_note(self):
        note = (self.cleaned_data.get("note") or "").strip()
        if not note:
            raise ValidationError("Say how the request came in and how the requester was verified.")
        return note


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "subject", "status", "business", "created_at", "completed_at", "handled_by"]
    list_filter = ["status", "kind", "subject"]
    search_fields = ["=phone_hash", "=id"]
    date_hierarchy = "created_at"
    inlines = [DataRequestEventInline]
    actions = ["complete_requests"]
    form = DataRequestOpenForm
    readonly = [
        "kind", "subject", "status", "business", "phone_number", "phone_hash", "requested_by", "handled_by", "note",
        "created_at", "completed_at", "archive_link", "result",
    ]  # fmt: skip

    def get_fields(self, request, obj=None):
        return self.readonly if obj else ["kind", "phone_number", "business", "note"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # the record of a request is kept with its trail

    def get_search_results(self, request, queryset, search_term):
        # Searching by number means searching by its keyed hash: completed deletions keep nothing else.
        from nextalerts.phones import phone_hash

        try:
            search_term = phone_hash(to_e164(search_term))
        except InvalidPhoneNumber:
            pass
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = services.data_request_open(
            kind=form.cleaned_data["kind"],
            phone=form.cleaned_data["phone_number"],
            business=form.cleaned_data.get("business"),
            note=form.cleaned_data["note"],
            actor=request.user,
            request=request,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # events are written by the services only

    @admin.display(description="Archive")
    def archive_link(self, obj):
        if not obj.archive:
            return "—"
        return format_html(
            '<a href="{}">Download the archive</a>', reverse("admin:privacy_datarequest_archive", args=[obj.pk])
        )

    @admin.action(description="Complete: build the access archive, or erase the number")
    def complete_requests(self, request, queryset):
        done = 0
        for data_request in queryset.filter(status=DataRequest.Status.OPEN, subject=DataRequest.Subject.PHONE):
            try:
                services.data_request_complete(data_request=data_request, actor=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, f"Request #{data_request.pk}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        skipped = queryset.count() - done
        self.message_user(request, f"{done} request(s) completed.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} request(s) skipped: only open subscriber requests are completed here.",
                messages.WARNING,
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/archive/",
                self.admin_site.admin_view(self.archive_download),
                name="privacy_datarequest_archive",
            )
        ] + super().get_urls()

    def archive_download(self, request, pk):
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        if not data_request.archive:
            raise Http404("This request has no archive.")
        return FileResponse(
            data_request.archive.open("rb"), as_attachment=True, filename=f"data-request-{data_request.pk}.zip"
        )
