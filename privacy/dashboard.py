"""Settings → Your data: the owner downloads everything the business holds, or deletes the business (and can cancel
the deletion until the purge, from a page a deleted business's owner can still reach)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.dashboard import dashboard_view
from accounts.middleware import SESSION_BUSINESS_KEY
from accounts.models import Business, Membership, Role

from . import services


class DeleteBusinessForm(forms.Form):
    confirm_name = forms.CharField(
        label="Type the business's name to confirm",
        max_length=200,
        error_messages={"required": "Type the business's name to confirm."},
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.business = business
        self.fields["confirm_name"].help_text = format_html("Type “{}” exactly as it is written here.", business.name)

    def clean_confirm_name(self):
        typed = self.cleaned_data["confirm_name"].strip()
        if typed.casefold() != self.business.name.strip().casefold():
            raise ValidationError("That isn't the business's name. Nothing was deleted.")
        return typed


def _page(request, form, status=200):
    return render(
        request,
        "dashboard/privacy/data.html",
        {"form": form, "retention_days": settings.RETENTION_DELETED_BUSINESS_DAYS, "section": "data"},
        status=status,
    )


@never_cache
@dashboard_view("data")
@require_http_methods(["GET", "HEAD"])
def data_page(request):
    return _page(request, DeleteBusinessForm(business=request.membership.business))


@never_cache
@dashboard_view("data", "export")
@require_POST
def data_export(request):
    business = request.membership.business
    fileobj = services.business_export(business=business, actor=request.user, request=request)
    name = f"{slugify(business.name) or 'business'}-data-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(fileobj, as_attachment=True, filename=name, content_type="application/zip")


@never_cache
@dashboard_view("data", "delete")
@require_POST
def data_delete(request):
    business = request.membership.business
    form = DeleteBusinessForm(request.POST, business=business)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        services.business_deletion_request(business=business, actor=request.user, request=request)
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _page(request, form, status=400)
    request.session.pop(SESSION_BUSINESS_KEY, None)
    messages.success(request, f"{business.name} is deleted. Nothing more will be sent, and nobody can log in to it.")
    return redirect("dashboard:data-deletion-pending")


def _pending_memberships(user):
    """The deleted, not yet purged businesses this user owns: the ones whose deletion they may still cancel."""
    return (
        Membership.objects.select_related("business")
        .filter(
            user=user,
            role=Role.OWNER,
            business__status=Business.Status.DELETED,
            business__purged_at__isnull=True,
        )
        .order_by("business__name", "business_id")
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def deletion_pending(request):
    pending = [
        {"business": m.business, "purge_date": services.business_purge_date(business=m.business)}
        for m in _pending_memberships(request.user)
    ]
    return render(
        request,
        "dashboard/privacy/deletion_pending.html",
        {"pending": pending, "retention_days": settings.RETENTION_DELETED_BUSINESS_DAYS},
    )


@never_cache
@login_required
@require_POST
def deletion_cancel(request, pk):
    membership = _pending_memberships(request.user).filter(business_id=pk).first()
    if membership is None:
        raise Http404("No deletion of yours to cancel.")
    business = membership.business
    try:
        services.business_deletion_cancel(business=business, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dashboard:data-deletion-pending")
    request.session[SESSION_BUSINESS_KEY] = business.pk
    messages.success(request, f"The deletion is cancelled: {business.name} is back, as it was.")
    return redirect("dashboard:data")
