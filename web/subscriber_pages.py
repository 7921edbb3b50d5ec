"""Dashboard pages for subscribers, the inbox, and numbers with their keywords.

There is no page or button that subscribes a number: subscribers come only from the consumer's own text, QR scan or
confirmed web form.
"""

import csv
import json
import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.dashboard import (
    business_object,
    can,
    dashboard_view,
    form_add_service_errors,
    paginate,
    query_without_page,
)
from consent import replies
from consent import services as consent_services
from messaging.services import SendRefused, conversation_reply
from nextalerts.csvcells import safe_cell
from nextalerts.phones import phone_display
from subscribers import selectors, services
from subscribers.models import Keyword, SenderNumber, Subscriber

from . import subscriber_selectors
from .subscriber_forms import (
    HelpReplyForm,
    KeywordForm,
    NumberCreateForm,
    NumberEditForm,
    ReplyForm,
    SubscriberEditForm,
)

# --- Subscribers ------------------------------------------------------------------------------------------------------


def _filters(request) -> dict:
    return {
        "q": selectors.clean_text(request.GET.get("q", "")),
        "status": selectors.clean_text(request.GET.get("status", ""), limit=20),
        "tag": selectors.clean_text(request.GET.get("tag", ""), limit=50),
    }


@dashboard_view("subscribers")
def subscriber_list(request):
    filters = _filters(request)
    page = paginate(request, selectors.subscriber_list(business=request.business, **filters))
    rows = list(page.object_list)
    return render(
        request,
        "dashboard/subscribers/list.html",
        {
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "filters": filters,
            "filtered": any(filters.values()),
            "statuses": Subscriber.Status.choices,
            "tags": selectors.tag_names(business=request.business),
            "join_url": selectors.join_form_url(business=request.business),
            "numbers": request.business.numbers.prefetch_related("keywords").order_by("id")[:3],
            "export_query": request.GET.urlencode(),
        },
    )


class _Echo:
    """A file-like object whose write() hands back the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def _iso(value) -> str:
    return value.isoformat() if value else ""


@dashboard_view("subscribers", "export")
def subscriber_export(request):
    queryset = selectors.subscriber_list(business=request.business, **_filters(request))
    writer = csv.writer(_Echo())
    header = ["Phone", "Name", "Email", "Status", "Tags", "Opt-in method", "Opted in at", "Opted out at"]

    def rows():
        yield writer.writerow(header)
        for s in queryset.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    # E.164 (a + and digits only, checked on the way in): a number, never a formula, and kept
                    # as-is so the file can be matched against other systems.
                    s.phone_number,
                    safe_cell(s.name),
                    safe_cell(s.email),
                    s.status,
                    safe_cell(", ".join(tag.name for tag in s.tags.all())),
                    s.opt_in_method,
                    _iso(s.opted_in_at),
                    _iso(s.opted_out_at),
                ]
            )

    stamp = timezone.now().strftime("%Y-%m-%d")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{request.business.slug}-{stamp}.csv"'
    return response


@dashboard_view("subscribers", post="change")
def subscriber_detail(request, pk):
    subscriber = business_object(request, Subscriber.objects.select_related("number", "qr_code"), pk=pk)
    can_edit = can(request, "subscribers", "change")
    if request.method == "POST":
        form = SubscriberEditForm(request.POST)
        if form.is_valid():
            try:
                services.subscriber_update(subscriber=subscriber, **form.cleaned_data)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("dashboard:subscriber", pk=subscriber.pk)
    else:
        form = SubscriberEditForm(
            initial={
                "name": subscriber.name,
                "email": subscriber.email,
                "notes": subscriber.notes,
                "tags": ", ".join(tag.name for tag in subscriber.tags.all()),
            }
        )
    info = subscriber_selectors.subscriber_page(subscriber=subscriber)
    history = paginate(request, subscriber_selectors.subscriber_messages(subscriber=subscriber))
    return render(
        request,
        "dashboard/subscribers/detail.html",
        {
            "subscriber": subscriber,
            "info": info,
            "history": history,
            "query": query_without_page(request),
            "form": form,
            "can_edit": can_edit,
            "subscriber_tags": [tag.name for tag in subscriber.tags.all()],
        },
    )


# --- Inbox ------------------------------------------------------------------------------------------------------------


def _inbox(request, *, page_number=None, reply_form=None, status=200):
    if page_number is not None:
        request.GET = request.GET.copy()
        request.GET["page"] = str(page_number)
    page = paginate(request, subscriber_selectors.inbox_messages(business=request.business))
    conversations = subscriber_selectors.inbox_conversations(business=request.business, messages=list(page.object_list))
    failed_phone = reply_form.data.get("phone") if reply_form is not None else None
    shown = any(c.phone == failed_phone for c in conversations)
    return render(
        request,
        "dashboard/inbox/inbox.html",
        {
            "page": page,
            "conversations": conversations,
            "query": query_without_page(request),
            "reply_form": reply_form,
            "failed_phone": failed_phone,
            # A reply to a number not on this page still needs its reason shown somewhere.
            "orphan_form": reply_form if reply_form is not None and not shown else None,
        },
        status=status,
    )


@dashboard_view("messages")
def inbox(request):
    return _inbox(request)


@dashboard_view("messages", "send")
def inbox_reply(request):
    if request.method != "POST":
        return redirect("dashboard:inbox")
    form = ReplyForm(request.POST)
    page_number = None
    if form.is_valid():
        page_number = form.cleaned_data.get("page")
        try:
            conversation_reply(business=request.business, to=form.cleaned_data["phone"], body=form.cleaned_data["body"])
        except SendRefused as exc:
            form.add_error(None, f"Not sent: {exc}")
        except ValidationError as exc:
            form_add_service_errors(form, exc, renamed={"to": "phone"})
        else:
            messages.success(request, f"Your reply to {phone_display(form.cleaned_data['phone'])} is on its way.")
            url = reverse("dashboard:inbox")
            return redirect(f"{url}?page={page_number}" if page_number and page_number > 1 else url)
    return _inbox(request, page_number=page_number if page_number and page_number > 0 else None, reply_form=form)


# --- Numbers and keywords ---------------------------------------------------------------------------------------------


@dashboard_view("numbers")
def number_list(request):
    return render(
        request,
        "dashboard/numbers/list.html",
        {
            "numbers": subscriber_selectors.numbers_with_keywords(business=request.business),
            "join_url": selectors.join_form_url(business=request.business),
            **subscriber_selectors.business_texts(business=request.business),
        },
    )


def _pattern_requirement(label: str, pattern: re.Pattern) -> dict:
    return {"label": label, "pattern": pattern.pattern, "flags": "i" if pattern.flags & re.IGNORECASE else ""}


def _help_requirements(business) -> list[dict]:
    """What a HELP reply must contain, for the live checklist; consent.replies checks the same again on save."""
    own = replies.own_contacts(business)
    reach = " or ".join(own) if own else "a phone number, email or web address"
    contact = _pattern_requirement(f"A way to reach you ({reach})", replies.help_contact_pattern(business))
    if not replies.standard_help_reply_gives_contact(business):
        contact["blank_missing"] = True  # a blank box means the standard reply, which then has no contact
    requirements = [{"label": f"The business name ({business.name})", "text": business.name}, contact]
    for what, pattern, _fix in replies.REQUIRED_HELP_ELEMENTS:
        requirements.append(_pattern_requirement(subscriber_selectors.REQUIREMENT_LABELS.get(what, what), pattern))
    requirements.append({"label": f"At most {replies.MAX_HELP_LENGTH} characters", "max": replies.MAX_HELP_LENGTH})
    return requirements


@dashboard_view("help_reply", "change")
def help_reply_edit(request):
    business = request.business
    standard = replies.standard_help_reply(business)
    form = HelpReplyForm(
        request.POST if request.method == "POST" else None, initial={"help_text": business.help_text or standard}
    )
    if request.method == "POST" and form.is_valid():
        try:
            consent_services.business_help_text_set(business=business, text=form.cleaned_data["help_text"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if business.help_text:
                messages.success(request, "Saved: people who text HELP now get your reply.")
            else:
                messages.success(request, "Saved: people who text HELP get the standard reply.")
            return redirect("dashboard:numbers")
    return render(
        request,
        "dashboard/numbers/help_reply_form.html",
        {
            "form": form,
            "standard_help_reply": standard,
            "is_custom": bool(business.help_text),
            "standard_gives_contact": replies.standard_help_reply_gives_contact(business),
            "requirements_json": json.dumps(_help_requirements(business)),
        },
    )


@dashboard_view("numbers", "create")
def number_create(request):
    form = NumberCreateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            number = services.number_create(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        except services.NumberCheckUnavailable as exc:
            form.add_error(None, str(exc))
            status = 503
        else:
            messages.success(
                request, f"{phone_display(number.phone_number)} added. Now add a keyword people can text to it."
            )
            return redirect("dashboard:numbers")
    return render(request, "dashboard/numbers/number_form.html", {"form": form, "number": None}, status=status)


@dashboard_view("numbers", "change")
def number_edit(request, pk):
    number = business_object(request, SenderNumber, pk=pk)
    form = NumberEditForm(
        request.POST or None,
        initial={
            "messaging_profile_id": number.messaging_profile_id,
            "messages_per_second": number.messages_per_second,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.number_update(instance=number, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"{phone_display(number.phone_number)} saved.")
            return redirect("dashboard:numbers")
    return render(request, "dashboard/numbers/number_form.html", {"form": form, "number": number})


@dashboard_view("numbers", "delete")
def number_delete(request, pk):
    number = business_object(request, SenderNumber, pk=pk)
    if request.method == "POST":
        label = phone_display(number.phone_number)
        services.number_delete(instance=number)
        messages.success(request, f"{label} removed.")
        return redirect("dashboard:numbers")
    keywords = list(number.keywords.values_list("keyword", flat=True))
    return render(
        request,
        "dashboard/numbers/confirm_delete.html",
        {
            "title": f"Remove {phone_display(number.phone_number)}?",
            "consequences": [
                f"Its keywords ({', '.join(keywords) if keywords else 'none'}) stop working, and so do the QR codes "
                f"printed for them ({number.qr_codes.count()}).",
                "Texts sent to this number no longer reach NextAlerts, and campaigns cannot send from it.",
                "Subscribers who joined through it stay subscribed, and their history stays.",
            ],
        },
    )


def _keyword_page(request, form, keyword):
    return render(
        request,
        "dashboard/numbers/keyword_form.html",
        {
            "form": form,
            "keyword": keyword,
            "requirements_json": json.dumps(subscriber_selectors.confirmation_requirements(business=request.business)),
            **subscriber_selectors.business_texts(business=request.business),
        },
    )


@dashboard_view("keywords", "create")
def keyword_create(request):
    initial = {"is_active": True}
    wanted = request.GET.get("number", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) < 12:
        initial["number"] = SenderNumber.objects.filter(business=request.business, pk=int(wanted)).first()
    form = KeywordForm(request.POST or None, business=request.business, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            keyword = services.keyword_create(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"Keyword {keyword.keyword} added.")
            return redirect("dashboard:numbers")
    if not form.fields["number"].queryset.exists():
        messages.info(request, "Add a number first: keywords are texted to one of your numbers.")
        return redirect("dashboard:number-create")
    return _keyword_page(request, form, None)


@dashboard_view("keywords", "change")
def keyword_edit(request, pk):
    keyword = business_object(request, Keyword.objects.select_related("number"), pk=pk)
    form = KeywordForm(
        request.POST or None,
        business=request.business,
        initial={
            "number": keyword.number,
            "keyword": keyword.keyword,
            "confirmation_text": keyword.confirmation_text,
            "is_active": keyword.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.keyword_update(instance=keyword, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"Keyword {keyword.keyword} saved.")
            return redirect("dashboard:numbers")
    return _keyword_page(request, form, keyword)


@dashboard_view("keywords", "delete")
def keyword_delete(request, pk):
    keyword = business_object(request, Keyword.objects.select_related("number"), pk=pk)
    if request.method == "POST":
        label = keyword.keyword
        services.keyword_delete(instance=keyword)
        messages.success(request, f"Keyword {label} removed.")
        return redirect("dashboard:numbers")
    return render(
        request,
        "dashboard/numbers/confirm_delete.html",
        {
            "title": f"Remove the keyword {keyword.keyword}?",
            "consequences": [
                f"Texting {keyword.keyword} to {phone_display(keyword.number.phone_number)} no longer subscribes "
                "anyone.",
                f"QR codes made for this keyword ({keyword.qr_codes.count()}) are removed too.",
                "People who already joined with it stay subscribed.",
            ],
        },
    )
