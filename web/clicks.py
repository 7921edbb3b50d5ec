"""GET /t/<code>: a recipient follows a tracked link. The click is recorded and the browser sent on to the URL the
campaign's body carried; anything that is not a code we issued for a campaign message is a plain 404."""

import logging
from dataclasses import dataclass

from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from messaging.models import Message
from nextalerts.http import client_ip
from tracking import links
from tracking.models import Click
from tracking.useragents import is_preview

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackedLink:
    business_id: int
    campaign_id: int
    message_id: int
    url: str


def link_resolve(*, code: str) -> TrackedLink | None:
    """The campaign message and original URL a code stands for; None for a forged, stale or unknown code."""
    parsed = links.parse_code(code)
    if parsed is None:
        return None
    message_id, index = parsed
    # One lookup by primary key, reading only the three values needed (the campaign body through the join). An id
    # beyond the column's range finds nothing rather than overflowing (Django drops out-of-range integer lookups).
    row = (
        Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND, campaign__isnull=False)
        .values_list("business_id", "campaign_id", "campaign__body")
        .first()
    )
    if row is None:
        return None
    business_id, campaign_id, body = row
    urls = links.find_urls(body)
    if index >= len(urls):
        return None
    return TrackedLink(business_id=business_id, campaign_id=campaign_id, message_id=message_id, url=urls[index])


def click_record(*, link: TrackedLink, user_agent: str, ip: str | None) -> Click | None:
    """One INSERT. A failed write is logged and swallowed: the recipient still reaches the page they asked for."""
    try:
        return Click.objects.create(
            business_id=link.business_id,
            campaign_id=link.campaign_id,
            message_id=link.message_id,
            url=link.url,
            user_agent=user_agent[:500],
            ip=ip,
            is_preview=is_preview(user_agent),
        )
    except DatabaseError:
        logger.exception("tracking.click.not-recorded", extra={"message_id": link.message_id})
        return None


@require_safe
@never_cache  # a cached redirect would be a click nobody counted
def click(request, code):
    link = link_resolve(code=code)
    if link is None:
        return render(request, "tracking/link_not_found.html", status=404)
    # Link-preview fetchers (Slack, iMessage, WhatsApp...) get the redirect too, so the preview card is drawn, but
    # their click is flagged and not counted. HEAD requests, a previewer's favourite, are not recorded at all.
    if request.method == "GET":
        click_record(link=link, user_agent=request.META.get("HTTP_USER_AGENT", ""), ip=client_ip(request))
    return HttpResponseRedirect(link.url)
