"""The hosted opt-in form at /join/<business slug>/: a public page for consumers, who never log in.

Submitting it makes the number pending and sends one "Reply YES" text; the consumer's YES subscribes them. Every
refusal is a page that says why, and an unexpected failure is a page too, never a bare 500.
"""

import logging

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Business
from accounts.selectors import business_region
from nextalerts.http import client_ip
from nextalerts.phones import phone_display

from . import webform
from .join_forms import JoinForm
from .selectors import business_tracks_links
from .webform import Outcome

logger = logging.getLogger(__name__)

NOTICES = {
    Outcome.ALREADY_PENDING: (
        "We already sent a text to {phone} and won't send another. Reply YES to that text to confirm."
    ),
    Outcome.ALREADY_SUBSCRIBED: "{phone} is already subscribed to {business} text alerts. There's nothing more to do.",
    Outcome.OPTED_OUT: (
        "{phone} opted out of {business} texts, so this form won't text it. "
        "To join again, text START to {sender} from your phone."
    ),
    Outcome.BLOCKED: "{business} can't send texts to {phone}. Please contact {business} directly.",
}
TOO_MANY_FROM_IP = (
    "There have been too many sign-up attempts from your connection. Nothing was sent. Please try again in an hour."
)
TOO_MANY_FOR_NUMBER = (
    "There have been too many sign-up attempts for this number today. Nothing was sent. Please try again tomorrow."
)
FAILED = (
    "Something went wrong on our side, and nothing was sent: you are not signed up yet. "
    "Please try again in a few minutes."
)


@never_cache  # the page carries a CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def join(request, slug):
    try:
        return _join(request, slug)
    except Exception:
        logger.exception("subscribers.web-form.error", extra={"slug": slug})
        return render(request, "subscribers/join_error.html", {"notice": FAILED}, status=503)


def _join(request, slug):
    business = Business.objects.filter(slug=slug, status=Business.Status.ACTIVE).first()
    if business is None:
        return render(request, "subscribers/join_not_found.html", status=404)
    number = webform.sender_for(business=business)
    if number is None:
        status = 409 if request.method == "POST" else 200
        return render(request, "subscribers/join_closed.html", {"business": business}, status=status)

    disclosure = webform.disclosure_for(business=business)
    region = webform.region_of(number=number)
    context = {"business": business, "disclosure": disclosure, "tracks_links": business_tracks_links(business=business)}
    if request.method != "POST":
        context["form"] = JoinForm(region=region, disclosure=disclosure)
        return render(request, "subscribers/join.html", context)

    form = JoinForm(request.POST, region=region, disclosure=disclosure)
    context["form"] = form

    def again(notice, status):
        return render(request, "subscribers/join.html", {**context, "notice": notice}, status=status)

    ip = client_ip(request)
    if webform.web_form_ip_throttled(business=business, ip=ip):
        logger.warning("subscribers.web-form.throttled", extra={"business": business.pk, "scope": "ip"})
        return again(TOO_MANY_FROM_IP, 429)
    valid = form.is_valid()
    if form.e164 and webform.web_form_number_throttled(business=business, phone=form.e164):
        logger.warning("subscribers.web-form.throttled", extra={"business": business.pk, "scope": "number"})
        return again(TOO_MANY_FOR_NUMBER, 429)
    if not valid:
        return render(request, "subscribers/join.html", context, status=400)

    phone = form.cleaned_data["phone"]
    try:
        result = webform.web_form_sign_up(
            business=business,
            number=number,
            phone=phone,
            disclosure=disclosure,
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
            form_url=request.build_absolute_uri(),
        )
    except Exception:
        # Rolled back whole: no pending subscriber, no ledger event, no text. The form keeps what they typed.
        logger.exception("subscribers.web-form.error", extra={"business": business.pk})
        return again(FAILED, 503)

    region = business_region(business=business)

    def display(e164: str) -> str:
        return phone_display(e164, region=region)

    if result.outcome == Outcome.SENT:
        return render(
            request,
            "subscribers/join_sent.html",
            {"business": business, "phone": display(phone), "sender": display(number.phone_number)},
        )
    notice = NOTICES[result.outcome].format(
        phone=display(phone), business=business.name, sender=display(number.phone_number)
    )
    return again(notice, 409)
