"""Dashboard pages for QR codes: the list with scans and opt-ins, making and changing codes, and print downloads.

They call the same services and selectors as /api/v1/qr-codes/.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from accounts.dashboard import (
    business_object,
    can,
    dashboard_view,
    form_add_service_errors,
    paginate,
    query_without_page,
)
from nextalerts.phones import phone_display
from subscribers.fields import SenderNumberChoiceField
from subscribers.models import Keyword, SenderNumber
from subscribers.selectors import join_form_url

from . import selectors, services
from .models import QRCode, Scan

# Big enough to print sharply on a flyer or a door sign; the SVG scales to any size anyway.
PRINT_PNG_SIZE = 1200
DEVICE_LABELS = {
    Scan.Device.MOBILE: "Phone",
    Scan.Device.TABLET: "Tablet",
    Scan.Device.DESKTOP: "Computer",
    Scan.Device.OTHER: "Other",
}


class KeywordChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, keyword):
        text = f"{keyword.keyword} (on {phone_display(keyword.number.phone_number)})"
        return text if keyword.is_active else f"{text}, switched off"


class QRCodeCreateForm(forms.Form):
    label = forms.CharField(
        label="Where will it be printed?",
        max_length=100,
        help_text='A name for you, such as "front door" or "flyer A". Each place gets its own code, so you see '
        "which one brings people in.",
        error_messages={
            "required": 'Say where the code is printed, such as "front door" or "flyer A".',
            "max_length": "Keep the label to 100 characters or fewer.",
        },
    )
    number = SenderNumberChoiceField(
        label="Number people text",
        queryset=SenderNumber.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose one of your numbers.", "invalid_choice": "Choose one of your own numbers."},
    )
    keyword = KeywordChoiceField(
        label="Keyword they text",
        queryset=Keyword.objects.none(),
        empty_label=None,
        help_text="Scanning opens the phone's texting app with this keyword and the code's reference filled in.",
        error_messages={
            "required": "Choose the keyword people text to join.",
            "invalid_choice": "Choose one of your own keywords.",
        },
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = SenderNumber.objects.filter(business=business).order_by("id")
        self.fields["keyword"].queryset = (
            Keyword.objects.filter(business=business).select_related("number").order_by("number_id", "keyword")
        )


class QRCodeEditForm(forms.Form):
    label = QRCodeCreateForm.base_fields["label"]
    is_active = forms.BooleanField(
        label="Switched on (scans open the texting app; when off, the code leads nowhere)", required=False
    )


def _qr_code(request, pk):
    return business_object(request, QRCode.objects.select_related("number", "keyword"), pk=pk)


@require_safe
@dashboard_view("qr_codes")
def qr_code_list(request):
    page = paginate(request, selectors.qr_codes_for_list(business=request.business))
    codes = list(page.object_list)
    stats = selectors.qr_code_stats(qr_codes=codes)
    rows = [{"code": code, "stats": stats[code.pk]} for code in codes]
    return render(
        request,
        "dashboard/qr/list.html",
        {
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "join_url": join_form_url(business=request.business),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("qr_codes", "create")
def qr_code_create(request):
    form = QRCodeCreateForm(request.POST if request.method == "POST" else None, business=request.business)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.qr_code_create(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"QR code “{code.label}” is ready. Download it below and print it.")
            return redirect("dashboard:qr-code", pk=code.pk)
    has_keywords = Keyword.objects.filter(business=request.business).exists()
    return render(
        request,
        "dashboard/qr/create.html",
        {"form": form, "has_keywords": has_keywords},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_safe
@dashboard_view("qr_codes")
def qr_code_detail(request, pk):
    code = _qr_code(request, pk)
    stats = selectors.qr_code_stats(qr_codes=[code])[code.pk]
    platforms = [
        {"device": DEVICE_LABELS.get(row.device_type, row.device_type.title()), "os": row.os, "scans": row.scans}
        for row in selectors.qr_code_scans_by_platform(qr_code=code)
    ]
    # segno's markup of our own URL, with nothing typed by a user in it (no title, the label stays out of it): safe
    # to put in the page as it is.
    svg = mark_safe(selectors.qr_code_svg(qr_code=code, size=None).decode())
    return render(
        request,
        "dashboard/qr/detail.html",
        {
            "code": code,
            "stats": stats,
            "platforms": platforms,
            "svg": svg,
            "url": selectors.qr_code_url(code),
            "join_url": join_form_url(business=request.business),
            "can_write": can(request, "qr_codes", "change"),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("qr_codes", "change")
def qr_code_edit(request, pk):
    code = _qr_code(request, pk)
    initial = {"label": code.label, "is_active": code.is_active}
    form = QRCodeEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.qr_code_update(instance=code, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"QR code “{code.label}” saved.")
            return redirect("dashboard:qr-code", pk=code.pk)
    return render(
        request,
        "dashboard/qr/edit.html",
        {"form": form, "code": code},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("qr_codes", "delete")
def qr_code_delete(request, pk):
    code = _qr_code(request, pk)
    if request.method != "POST":
        return render(request, "dashboard/qr/confirm_delete.html", {"code": code})
    label = code.label
    services.qr_code_delete(instance=code)
    messages.success(request, f"QR code “{label}” deleted. Printed copies of it no longer lead anywhere.")
    return redirect("dashboard:qr-codes")


def _download(content: bytes, *, code: QRCode, extension: str, content_type: str) -> HttpResponse:
    name = slugify(code.label)[:60].strip("-") or "code"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="qr-{name}.{extension}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@dashboard_view("qr_codes")
def qr_code_svg(request, pk):
    code = _qr_code(request, pk)
    svg = selectors.qr_code_svg(qr_code=code, size=selectors.DEFAULT_SIZE)
    return _download(svg, code=code, extension="svg", content_type="image/svg+xml")


@require_safe
@dashboard_view("qr_codes")
def qr_code_png(request, pk):
    code = _qr_code(request, pk)
    png = selectors.qr_code_png(qr_code=code, size=PRINT_PNG_SIZE)
    return _download(png, code=code, extension="png", content_type="image/png")
