"""Dashboard pages: the overview, compliance (consent record, do-not-text list, evidence files) and, on local
demos only, the phone simulator."""

import functools
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.dashboard import business_object, can, dashboard_view, paginate, query_without_page
from consent import replies, selectors, services
from consent.models import ConsentEvent, Suppression
from messaging.models import Message
from nextalerts.phones import InvalidPhoneNumber, phone_display, phone_hash, to_e164
from subscribers.fields import SenderNumberChoiceField
from subscribers.models import Keyword, SenderNumber, Subscriber

from . import evidence, simulator
from .selectors import campaigns_recent_summary

PHONE_HELP = "Any US format works, such as (202) 555-0123 or +1 202 555 0123."


def _phone_field(label, *, required=True, help_text=PHONE_HELP):
    return forms.CharField(
        label=label,
        max_length=40,
        required=required,
        help_text=help_text,
        error_messages={
            "required": "Enter a phone number.",
            "max_length": "That is too long for a phone number.",
        },
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )


class PhoneCleanMixin:
    phone_field = "phone"

    def clean_phone(self):
        raw = self.cleaned_data.get(self.phone_field, "")
        if not raw:
            return ""
        try:
            return to_e164(raw)
        except InvalidPhoneNumber:
            raise forms.ValidationError(
                "That is not a phone number we can read. Try the full number, such as +1 202 555 0123."
            ) from None


# --- Overview ---------------------------------------------------------------------------------------------------------

CHART_HEIGHT = 140
CHART_DAY_WIDTH = 22
CHART_BAR_WIDTH = 9
CHART_LEFT = 34
CHART_TOP = 10


def _chart(activity: selectors.ConsentActivity) -> dict:
    """Bar positions for the daily chart, in SVG units (drawn server-side: no script needed to read it)."""
    peak = max([1, *(max(d.opt_ins, d.opt_outs) for d in activity.days)])
    bottom = CHART_TOP + CHART_HEIGHT
    bars = []
    for i, day in enumerate(activity.days):
        x = CHART_LEFT + i * CHART_DAY_WIDTH + 2
        in_h = round(day.opt_ins / peak * CHART_HEIGHT, 1)
        out_h = round(day.opt_outs / peak * CHART_HEIGHT, 1)
        bars.append(
            {
                "day": day,
                "in_x": x,
                "in_y": round(bottom - in_h, 1),
                "in_h": in_h,
                "out_x": x + CHART_BAR_WIDTH,
                "out_y": round(bottom - out_h, 1),
                "out_h": out_h,
                # A date under every seventh day, counted back from today, keeps the axis readable on a phone.
                "label": day.day.strftime("%b %-d") if (len(activity.days) - 1 - i) % 7 == 0 else "",
                "label_x": x + CHART_BAR_WIDTH,
            }
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": CHART_LEFT + len(activity.days) * CHART_DAY_WIDTH + 4,
        "height": bottom + 24,
        "bottom": bottom,
        "top": CHART_TOP,
        "left": CHART_LEFT,
        "bar_width": CHART_BAR_WIDTH,
        "axis_label_y": bottom + 16,
    }


def _join_methods(activity: selectors.ConsentActivity) -> list[dict]:
    total = sum(activity.by_method.values())
    return [
        {
            "label": evidence.METHOD_LABELS[method] if method != ConsentEvent.Method.KEYWORD else "Keyword",
            "count": count,
            "percent": round(count / total * 100) if total else 0,
        }
        for method, count in activity.by_method.items()
    ]


@dashboard_view("overview")
def overview(request):
    business = request.business
    activity = selectors.consent_activity(business=business)
    has_number = SenderNumber.objects.filter(business=business).exists()
    has_keyword = has_number and Keyword.objects.filter(business=business, is_active=True).exists()
    return render(
        request,
        "dashboard/overview.html",
        {
            "subscribers": selectors.subscribers_count(business=business),
            "activity": activity,
            "chart": _chart(activity),
            "join_methods": _join_methods(activity),
            "campaigns": campaigns_recent_summary(business=business, limit=5),
            "has_number": has_number,
            "has_keyword": has_keyword,
            "needs_support_contact": not replies.help_reply_gives_contact(business),
            "show_simulator": settings.DEBUG,
        },
    )


# --- Compliance: the consent record -----------------------------------------------------------------------------------


class LedgerFilterForm(PhoneCleanMixin, forms.Form):
    phone = _phone_field("Phone number", required=False, help_text="")
    kind = forms.ChoiceField(
        label="What happened",
        required=False,
        choices=[("", "Anything"), *evidence.KIND_LABELS.items()],
        error_messages={"invalid_choice": "Pick one of the listed choices."},
    )


@dashboard_view("consent_events")
def compliance(request):
    business = request.business
    form = LedgerFilterForm(request.GET or None)
    events = ConsentEvent.objects.none()
    if not form.is_bound:
        events = selectors.consent_events_list(business=business)
    elif form.is_valid():
        events = selectors.consent_events_list(
            business=business, phone=form.cleaned_data["phone"] or None, kind=form.cleaned_data["kind"] or None
        )
    page = paginate(request, events)
    evidence.label_events(page.object_list)
    return render(
        request,
        "dashboard/compliance/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "ledger_status": selectors.ledger_status_last(business=business),
            "section": "ledger",
        },
    )


@require_POST
@dashboard_view("consent_events", "verify")
def compliance_verify(request):
    """Checking the chain changes nothing, so any member may ask for it; it walks the whole ledger, hence on
    request rather than on every page view."""
    status = selectors.ledger_status_check(business=request.business)
    if status.intact:
        messages.success(request, f"Verified: {status.events} events, chain intact.")
    else:
        messages.error(request, f"The check found {len(status.breaks)} problem(s) in your consent record.")
    return redirect("dashboard:compliance")


# --- Compliance: the do-not-text list ---------------------------------------------------------------------------------


class SuppressionFilterForm(PhoneCleanMixin, forms.Form):
    phone = _phone_field("Phone number", required=False, help_text="")


class SuppressionAddForm(PhoneCleanMixin, forms.Form):
    phone = _phone_field(
        "Phone number",
        help_text="This number will get no texts from you, not even campaigns it signed up for. " + PHONE_HELP,
    )


@dashboard_view("suppressions", post="create")  # who may add and remove: accounts/roles.py
def suppressions(request):
    business = request.business
    add_form = SuppressionAddForm(request.POST if request.method == "POST" else None, prefix="add")
    if request.method == "POST" and add_form.is_valid():
        phone = add_form.cleaned_data["phone"]
        existing = Suppression.objects.filter(business=business, phone_hash=phone_hash(phone)).exists()
        services.suppression_add_manual(business=business, phone=phone, user=request.user, request=request)
        if existing:
            messages.info(request, f"{phone_display(phone)} was already on your do-not-text list.")
        else:
            messages.success(
                request, f"{phone_display(phone)} is on your do-not-text list: it will get no more texts from you."
            )
        return redirect("dashboard:suppressions")

    filter_form = SuppressionFilterForm(request.GET or None)
    rows = Suppression.objects.none()
    if not filter_form.is_bound:
        rows = selectors.suppressions_list(business=business)
    elif filter_form.is_valid():
        rows = selectors.suppressions_list(business=business, phone=filter_form.cleaned_data["phone"] or None)
    page = paginate(request, rows)
    for row in page.object_list:
        row.reason_label = evidence.REASON_LABELS.get(row.reason, row.reason)
        row.removable = row.reason == Suppression.Reason.MANUAL
    return render(
        request,
        "dashboard/compliance/suppressions.html",
        {
            "form": filter_form,
            "add_form": add_form,
            "page": page,
            "query": query_without_page(request),
            "can_remove": can(request, "suppressions", "delete"),
            "section": "suppressions",
        },
    )


@require_POST
@dashboard_view("suppressions", "delete")
def suppression_remove(request, pk):
    suppression = business_object(request, Suppression, pk=pk)
    try:
        services.suppression_remove_manual(suppression=suppression, user=request.user, request=request)
    except services.SuppressionNotRemovable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{suppression.phone_number or 'The number'} is off your do-not-text list. It is not subscribed: "
            "only the person can subscribe again, by texting your keyword.",
        )
    return redirect("dashboard:suppressions")


# --- Compliance: evidence file for one number -------------------------------------------------------------------------


class EvidenceForm(PhoneCleanMixin, forms.Form):
    phone = _phone_field("Phone number")


@dashboard_view("consent_events", "evidence")
def evidence_export(request):
    business = request.business
    form = EvidenceForm(request.GET if "phone" in request.GET else None)
    if form.is_valid():
        record = evidence.evidence_for_phone(business=business, phone=form.cleaned_data["phone"])
        if record.empty:
            form.add_error("phone", "There is nothing on this number: it never texted you and was never texted.")
        else:
            body = render_to_string("dashboard/compliance/evidence_file.html", {"record": record})
            response = HttpResponse(body, content_type="text/html; charset=utf-8")
            digits = re.sub(r"\D", "", record.phone)
            stamp = timezone.localtime(record.generated_at).strftime("%Y%m%d-%H%M%S")
            filename = f"evidence-{business.slug}-{digits}-{stamp}.html"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
    return render(
        request,
        "dashboard/compliance/evidence.html",
        {"form": form, "section": "evidence"},
    )


# --- Phone simulator (DEBUG only) -------------------------------------------------------------------------------------


def debug_only(view):
    """Only on a local demo server: elsewhere the page does not exist."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404("The phone simulator only runs on a local demo server.")
        return view(request, *args, **kwargs)

    return wrapper


class SimulatorForm(PhoneCleanMixin, forms.Form):
    number = SenderNumberChoiceField(
        label="Your number",
        queryset=SenderNumber.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Pick one of your numbers.",
            "invalid_choice": "Pick one of your numbers.",
            "invalid_pk_value": "Pick one of your numbers.",
        },
    )
    phone = _phone_field("Customer's phone", help_text="A made-up number such as +1 202 555 0123 is best.")
    text = forms.CharField(
        label="Text message",
        max_length=1600,
        error_messages={
            "required": "Type a text, or pick one of the buttons.",
            "max_length": "A text can be at most 1,600 characters.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = SenderNumber.objects.filter(business=business).order_by("id")


def _conversation_params(request):
    """The number and customer phone a conversation is for; anything unreadable gives no conversation."""
    number_id = request.GET.get("number", "")
    number = None
    if number_id.isdigit() and len(number_id) < 19:
        number = SenderNumber.objects.filter(business=request.business, pk=int(number_id)).first()
    try:
        phone = to_e164(request.GET.get("phone", "")[:40])
    except InvalidPhoneNumber:
        phone = None
    return number, phone


def _simulator_url(name, number, phone) -> str:
    return reverse(name) + "?" + urlencode({"number": number.pk, "phone": phone})


def _conversation(request, number, phone) -> dict:
    if number is None or phone is None:
        return {"number": number, "phone": phone, "texts": [], "subscriber": None, "suppressed": False}
    digest = phone_hash(phone)
    # The newest 50, shown oldest first like a phone shows them.
    texts = list(
        Message.objects.filter(business=request.business, phone_hash=digest, sender_number=number).order_by(
            "-created_at", "-id"
        )[:50]
    )[::-1]
    return {
        "number": number,
        "phone": phone,
        "texts": texts,
        "subscriber": Subscriber.objects.filter(business=request.business, phone_hash=digest).first(),
        "suppressed": Suppression.objects.filter(business=request.business, phone_hash=digest).exists(),
        "refresh_url": _simulator_url("dashboard:simulator-conversation", number, phone),
    }


@debug_only
@dashboard_view("simulator", post="send")
def simulator_page(request):
    business = request.business
    numbers = list(SenderNumber.objects.filter(business=business).order_by("id"))
    if request.method == "POST":
        data = request.POST.copy()
        if data.get("quick"):
            data["text"] = data["quick"]
        form = SimulatorForm(data, business=business)
        if form.is_valid():
            number, phone = form.cleaned_data["number"], form.cleaned_data["phone"]
            try:
                result = simulator.simulator_text_in(number=number, phone=phone, text=form.cleaned_data["text"])
            except simulator.SimulatorUnavailable as exc:
                messages.error(request, str(exc))
            else:
                if result.status_code >= 400:
                    messages.error(request, f"The text was refused ({result.status_code}): {result.outcome}")
            return redirect(_simulator_url("dashboard:simulator", number, phone))
        number, phone = _conversation_params(request)
    else:
        number, phone = _conversation_params(request)
        number = number or (numbers[0] if numbers else None)
        phone = phone or simulator.DEFAULT_CONSUMER_PHONE
        form = SimulatorForm(initial={"number": number.pk if number else None, "phone": phone}, business=business)
    keywords = list(
        Keyword.objects.filter(business=business, number=number, is_active=True).values_list("keyword", flat=True)
    )
    return render(
        request,
        "dashboard/simulator/page.html",
        {
            "form": form,
            "numbers": numbers,
            "quick_texts": [*keywords, "HELP", "STOP", "START"],
            "available": simulator.simulator_available(),
            "conversation": _conversation(request, number, phone),
            "can_send": can(request, "simulator", "send"),
        },
    )


@debug_only
@dashboard_view("simulator")
def simulator_conversation(request):
    number, phone = _conversation_params(request)
    return render(
        request, "dashboard/simulator/_conversation.html", {"conversation": _conversation(request, number, phone)}
    )
