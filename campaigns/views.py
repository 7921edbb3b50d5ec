"""Dashboard pages for campaigns: the list, the compose form, the results page and its live figures.

They call the same services as /api/v1/campaigns/. Times are shown and typed in the business's own time zone.
"""

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.dashboard import (
    business_object,
    can,
    dashboard_view,
    form_add_service_errors,
    paginate,
    query_without_page,
)
from messaging import segments
from subscribers.models import Tag

from . import ai, compliance, selectors, services
from .forms import CampaignForm, DraftRequestForm
from .models import Campaign

Status = Campaign.Status
# While these last, the results page keeps fetching its figures.
LIVE_STATUSES = (Status.SCHEDULED, Status.SENDING)
BADGES = {
    Status.DRAFT: "",
    Status.SCHEDULED: "info",
    Status.SENDING: "warn",
    Status.SENT: "ok",
    Status.CANCELLED: "",
    Status.FAILED: "bad",
}
# The measure endpoint is called as someone types: bound what one request can make the server do.
MEASURE_MAX_CHARS = services.MAX_BODY * 4
MEASURE_MAX_TAGS = 200


def _zone(business):
    try:
        return ZoneInfo(business.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_business_time(view):
    """Show and read dates in the business's time zone for the whole request (form parsing and templates)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(_zone(request.business)):
            return view(request, *args, **kwargs)

    return wrapper


def _campaign(request, pk):
    return business_object(request, Campaign.objects.select_related("sender_number").prefetch_related("tags"), pk=pk)


@require_safe
@dashboard_view("campaigns")
@in_business_time
def campaign_list(request):
    page = paginate(request, selectors.campaigns_for_list(business=request.business))
    campaigns = list(page.object_list)
    summaries = selectors.campaign_summaries(campaigns=campaigns)
    statuses = selectors.campaign_status_texts(campaigns=campaigns)
    rows = [
        {"campaign": c, "stats": summaries[c.pk], "badge": BADGES.get(c.status, ""), "status": statuses[c.pk]}
        for c in campaigns
    ]
    return render(
        request,
        "dashboard/campaigns/list.html",
        {"page": page, "rows": rows, "query": query_without_page(request)},
    )


def _measure_context(*, body, track_links, media_urls, business) -> dict:
    body = body[:MEASURE_MAX_CHARS]
    measurement = selectors.body_measurement(body=body, track_links=track_links, media_urls=media_urls)
    characters = len(body)
    parts = [f"{characters} character{'' if characters == 1 else 's'}"]
    if measurement.mms:
        parts.append("MMS (picture attached)")
    else:
        noun = "segment" if measurement.segments == 1 else "segments"
        why = f" because of {', '.join(repr(c) for c in measurement.non_gsm)}" if measurement.non_gsm else ""
        parts.append(f"{measurement.segments} {noun}")
        parts.append(f"{measurement.encoding}{why}")
    tracked = track_links and selectors.body_measurement(body=body, track_links=False).units != measurement.units
    return {
        "characters": characters,
        "encoding": measurement.encoding,
        "segments": measurement.segments,
        "units": measurement.units,
        "per_segment": measurement.per_segment,
        "non_gsm_characters": list(measurement.non_gsm),
        "mms": measurement.mms,
        "summary": measurement.describe(),
        "display": " · ".join(parts),
        "note": "Links are counted as the short links recipients get." if tracked else "",
        # Nothing to say about an empty body yet: the required-field error covers it on save.
        "check": compliance.body_check(body=body, business=business, media_urls=media_urls).as_dict() if body else None,
    }


def _tag_ids(values) -> list[int]:
    ids = []
    for value in values[:MEASURE_MAX_TAGS]:
        value = (value or "").strip()
        if value.isascii() and value.isdigit() and len(value) < 19:
            ids.append(int(value))
    return ids


@require_POST
@dashboard_view("campaigns", "measure")
def campaign_measure(request):
    """How the body being typed will be billed, and how many subscribers the chosen audience has now."""
    media = [line for line in request.POST.get("media_urls", "").splitlines() if line.strip()][: services.MAX_MEDIA]
    track_links = request.POST.get("track_links", "") in ("on", "true", "1")
    body = request.POST.get("body", "").replace("\r\n", "\n")
    data = _measure_context(body=body, track_links=track_links, media_urls=media, business=request.business)
    tag_ids = _tag_ids(request.POST.getlist("tags")) if request.POST.get("audience") == "tags" else []
    if request.POST.get("audience") == "tags" and not tag_ids:
        data["audience_size"] = 0
    else:
        data["audience_size"] = selectors.campaign_audience_size(business=request.business, tag_ids=tag_ids)
    return JsonResponse(data)


@require_POST
@dashboard_view("campaigns", "draft")
def campaign_draft(request):
    """Up to three checked drafts from a brief ("Write it for me"): a fragment for the composer's script, or a page of
    its own when the browser posts the form without it."""
    form = DraftRequestForm(request.POST)
    context = {"draft_form": form, "drafts": [], "error": "", "configured": ai.is_configured()}
    status = 200
    if form.is_valid():
        try:
            context["drafts"] = ai.campaign_drafts_write(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            status = 400
        except ai.RateLimited as exc:
            context["error"], status = exc.message, 429
        except (ai.NotConfigured, ai.ProviderUnavailable) as exc:
            context["error"], status = exc.message, 503
        except ai.ProviderError as exc:
            context["error"], status = exc.message, 502
        else:
            if not context["drafts"]:
                context["error"] = (
                    "None of the drafts passed the checks this time. Try again, or reword the description."
                )
    else:
        status = 400
    fragment = request.headers.get("X-Requested-With") == "fetch"
    template = "dashboard/campaigns/_drafts.html" if fragment else "dashboard/campaigns/drafts.html"
    return render(request, template, context, status=status)


def _compose(request, campaign=None):
    business = request.business
    zone_name = timezone.get_current_timezone_name()
    if request.method == "POST":
        form = CampaignForm(request.POST, business=business, time_zone_name=zone_name)
        launch = request.POST.get("action") == "launch"
        if form.is_valid() and launch:
            _refuse_problems(form, business)
        if form.is_valid():
            try:
                with transaction.atomic():
                    if campaign is None:
                        saved = services.campaign_create(
                            business=business, created_by=request.user, **form.service_fields()
                        )
                    else:
                        saved = services.campaign_update(instance=campaign, **form.service_fields())
            except ValidationError as exc:
                form_add_service_errors(form, exc, renamed={"number": "sender_number"})
            else:
                if launch:
                    # Saved as a draft; it goes out only once the summary of who gets it and what it costs is
                    # confirmed.
                    return redirect("dashboard:campaign-launch", pk=saved.pk)
                messages.success(request, _saved_notice(saved))
                return redirect("dashboard:campaign", pk=saved.pk)
    else:
        initial = CampaignForm.initial_for(campaign) if campaign else _copied(request)
        form = CampaignForm(initial=initial, business=business, time_zone_name=zone_name)

    body = (form["body"].value() or "").replace("\r\n", "\n")
    track_links = bool(form["track_links"].value())
    media = [line for line in (form["media_urls"].value() or "").splitlines() if line.strip()]
    chosen_tags = _tag_ids([str(v) for v in (form["tags"].value() or [])])
    tagged = form["audience"].value() == "tags"
    audience_size = (
        0 if tagged and not chosen_tags else selectors.campaign_audience_size(business=business, tag_ids=chosen_tags)
    )
    return render(
        request,
        "dashboard/campaigns/compose.html",
        {
            "form": form,
            "campaign": campaign,
            "measure": _measure_context(body=body, track_links=track_links, media_urls=media, business=business),
            "draft_form": DraftRequestForm(),
            "drafting_configured": ai.is_configured(),
            "audience_size": audience_size,
            "has_tags": Tag.objects.filter(business=business).exists(),
            "launch_label": "Schedule" if form["when"].value() == "later" else "Send now",
            "gsm_basic": "".join(sorted(segments.GSM_BASIC)),
            "gsm_extension": "".join(sorted(segments.GSM_EXTENSION)),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _refuse_problems(form, business) -> None:
    """A text that breaks the sending rules may be saved as a draft, never sent: the problems go next to the body."""
    data = form.cleaned_data
    check = compliance.body_check(body=data["body"], business=business, media_urls=data["media_urls"])
    if check.problems:
        form.add_error("body", [problem.message for problem in check.problems])


def _copied(request) -> dict:
    """?copy=<id>: start from one of the business's campaigns (the way to change a scheduled or sent one)."""
    raw = request.GET.get("copy", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        return {}
    source = Campaign.objects.filter(business=request.business, pk=int(raw)).prefetch_related("tags").first()
    if source is None:
        return {}
    initial = CampaignForm.initial_for(source)
    initial.update(name=f"{source.name} (copy)"[:120], when="now", send_at=None)
    return initial


def _saved_notice(campaign) -> str:
    if campaign.status == Status.SCHEDULED:
        # As the campaign page writes it; Django's DATETIME_FORMAT ends in "p.m.", which a full stop would double.
        when = date_format(timezone.localtime(campaign.send_at), "l, M j, Y g:i A T")
        return f"“{campaign.name}” is scheduled for {when}."
    if campaign.status == Status.SENDING:
        return f"“{campaign.name}” is on its way. The figures below update as the texts go out."
    return f"Draft “{campaign.name}” saved. Nothing has been sent yet."


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("campaigns", "create")
@in_business_time
def campaign_create(request):
    return _compose(request)


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("campaigns", "change")
@in_business_time
def campaign_edit(request, pk):
    campaign = _campaign(request, pk)
    if campaign.status != Status.DRAFT:
        messages.warning(
            request,
            f"This campaign is {campaign.get_status_display().lower()}, so it can no longer be changed. "
            "Use “Copy to a new draft” to send a changed version.",
        )
        return redirect("dashboard:campaign", pk=campaign.pk)
    return _compose(request, campaign)


def _funnel(stats: dict) -> list[dict]:
    whole = stats["recipients"] or 0
    steps = [
        ("Waiting to go out", stats["queued"], "queued"),
        ("Being sent", stats["sending"], "sending"),
        ("Sent", stats["sent"], "sent"),
        ("Delivered", stats["delivered"], "delivered"),
        ("Failed", stats["failed"], "failed"),
        ("Blocked (opted out)", stats["blocked"], "blocked"),
        ("Cancelled", stats["cancelled"], "cancelled"),
    ]
    return [
        {"label": label, "count": count, "percent": round(100 * count / whole) if whole else 0, "kind": kind}
        for label, count, kind in steps
    ]


def _stats_context(request, campaign) -> dict:
    stats = selectors.campaign_stats(campaign=campaign)
    live = campaign.status in LIVE_STATUSES
    return {
        "campaign": campaign,
        # Here rather than in the page's heading, so that it changes with the live figures.
        "badge": BADGES.get(campaign.status, ""),
        "status_text": selectors.campaign_status_texts(campaigns=[campaign])[campaign.pk],
        "stats": stats,
        "funnel": _funnel(stats),
        "delivery_rate": selectors.campaign_delivery_rate(stats),
        "refresh_url": reverse("dashboard:campaign-stats", args=[campaign.pk]) if live else "",
    }


@require_safe
@dashboard_view("campaigns")
@in_business_time
def campaign_detail(request, pk):
    campaign = _campaign(request, pk)
    context = _stats_context(request, campaign)
    context.update(
        tags=list(campaign.tags.all()),
        measurement=selectors.campaign_measurement(campaign=campaign),
        can_write=can(request, "campaigns", "change"),
        launch_schedules=bool(campaign.send_at and campaign.send_at > timezone.now()),
    )
    return render(request, "dashboard/campaigns/detail.html", context)


@require_safe
@dashboard_view("campaigns")
@in_business_time
def campaign_stats_fragment(request, pk):
    campaign = _campaign(request, pk)
    return render(request, "dashboard/campaigns/_stats.html", _stats_context(request, campaign))


def _act(request, campaign, *, template, action, notice, extra=None):
    """GET shows what is about to happen and a button; POST does it. A refusal comes back as a message."""
    if request.method != "POST":
        return render(request, template, {"campaign": campaign, **(extra() if extra else {})})
    try:
        campaign = action(campaign)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, notice(campaign))
    return redirect("dashboard:campaign", pk=campaign.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("campaigns", "launch")
@in_business_time
def campaign_launch(request, pk):
    """A saved draft sent now, or scheduled when it has a time in the future, as POST .../launch/ does in the API."""
    campaign = _campaign(request, pk)
    if campaign.status != Status.DRAFT and request.method != "POST":
        messages.warning(request, f"This campaign is {campaign.get_status_display().lower()}; only a draft is sent.")
        return redirect("dashboard:campaign", pk=campaign.pk)

    def extra():
        preview = selectors.campaign_launch_preview(campaign=campaign)
        return {"preview": preview, "schedules": preview.schedules}

    return _act(
        request,
        campaign,
        template="dashboard/campaigns/confirm_launch.html",
        action=lambda campaign: services.campaign_launch_checked(campaign=campaign),
        notice=_saved_notice,
        extra=extra,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("campaigns", "cancel")
@in_business_time
def campaign_cancel(request, pk):
    return _act(
        request,
        _campaign(request, pk),
        template="dashboard/campaigns/confirm_cancel.html",
        action=lambda c: services.campaign_cancel(campaign=c),
        notice=lambda c: f"“{c.name}” is cancelled. Texts already handed to the carrier could not be called back.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view("campaigns", "delete")
@in_business_time
def campaign_delete(request, pk):
    campaign = _campaign(request, pk)
    if campaign.status != Status.DRAFT:
        messages.warning(request, "Only a draft can be deleted; a campaign that went out stays in your records.")
        return redirect("dashboard:campaign", pk=campaign.pk)
    if request.method != "POST":
        return render(request, "dashboard/campaigns/confirm_delete.html", {"campaign": campaign})
    try:
        services.campaign_delete(instance=campaign)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dashboard:campaign", pk=campaign.pk)
    messages.success(request, f"Draft “{campaign.name}” deleted.")
    return redirect("dashboard:campaigns")
