"""The page a printed QR code opens: a phone is sent straight to its messaging app with the opt-in text prefilled;
anything else (a computer, a link preview, an unknown device) gets a page saying what to text, with the code to scan.

Every GET is recorded as a scan. Nothing here subscribes anyone: the consumer's own text does, in consent.services.
"""

from urllib.parse import quote

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.selectors import business_region
from consent.replies import FREQUENCY, RATES
from nextalerts.http import client_ip
from nextalerts.phones import phone_display
from tracking import selectors, services
from tracking.useragents import describe

from .selectors import business_tracks_links

REDIRECTED_DEVICES = {"mobile", "tablet"}


class HttpResponseSmsRedirect(HttpResponseRedirect):
    """Django refuses to redirect to schemes other than http(s) and ftp; this one goes to the messaging app."""

    allowed_schemes = ["sms"]


def sms_link(*, phone_number: str, body: str, platform: str) -> str:
    """The sms: URL that opens a new message to `phone_number` with `body` typed in.

    iOS reads the body after "&" (sms:+1555...&body=...); Android, and the RFC 5724 syntax other phones follow, after
    "?". The body is percent-encoded with spaces as %20: a "+" would reach the consumer as a literal plus sign.
    """
    separator = "&" if platform == "ios" else "?"
    return f"sms:{phone_number}{separator}body={quote(body, safe='')}"


def _not_active(request):
    return render(request, "tracking/scan_inactive.html", status=404)


@never_cache  # every scan must reach us to be counted, and a switched-off code must stop working at once
@require_safe
def scan(request, slug):
    qr_code = selectors.qr_code_for_scan(slug=slug)
    if qr_code is None:
        return _not_active(request)
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if request.method == "GET":  # HEAD is a link checker, not a person
        services.scan_record(
            qr_code=qr_code,
            user_agent=user_agent,
            ip=client_ip(request),
            referrer=request.META.get("HTTP_REFERER", ""),
        )
    device = describe(user_agent)
    phone, body = qr_code.number.phone_number, qr_code.prefilled_body
    if device.type in REDIRECTED_DEVICES:
        return HttpResponseSmsRedirect(sms_link(phone_number=phone, body=body, platform=device.platform))
    shown = phone_display(phone, region=business_region(business=qr_code.business))
    svg = selectors.qr_code_svg(qr_code=qr_code, size=None, title=f"QR code: text {body} to {shown}")
    context = {
        "business": qr_code.business,
        "program_name": f"{qr_code.business.name} text alerts",
        "phone_display": shown,
        "body": body,
        "keyword": qr_code.keyword.keyword,
        "ref": qr_code.ref,
        "frequency": FREQUENCY,
        "rates": RATES,
        # For a phone we did not recognise: "?&body=" is read by both syntaxes (iOS after "&", others after "?").
        "sms_link": f"sms:{phone}?&body={quote(body, safe='')}",
        # segno's markup around our own URL. Its only text is the title: a keyword (letters and digits only, see
        # subscribers.services.keyword_clean), our ref and the number, and segno escapes it anyway.
        "qr_svg": mark_safe(svg.decode()),
        "tracks_links": business_tracks_links(business=qr_code.business),
    }
    response = render(request, "tracking/scan.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
