"""Reads of a business's subscribers, tags and numbers. The pages' reads that also need consent, messages or clicks
are web/subscriber_selectors.py."""

import re

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse

from .models import Subscriber, Tag

MAX_QUERY_LENGTH = 100


def join_form_url(*, business) -> str:
    """The hosted opt-in form's public address, for the business to print, link or share."""
    return settings.PUBLIC_BASE_URL + reverse("join", args=[business.slug])


def clean_text(value, *, limit: int = MAX_QUERY_LENGTH) -> str:
    """A query-string value as safe to filter on: a string, without NUL characters (PostgreSQL refuses them)."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()[:limit]


# --- Subscribers ------------------------------------------------------------------------------------------------------


def subscriber_list(*, business, q: str = "", status: str = "", tag: str = "") -> QuerySet:
    """A business's subscribers, newest first, matching a search (digits of the phone, however typed, or the name or
    email) and optional status and tag filters. Unknown statuses are ignored; an unknown tag matches nobody."""
    queryset = Subscriber.objects.filter(business=business)
    q = clean_text(q)
    if q:
        digits = re.sub(r"\D", "", q)
        match = Q(name__icontains=q) | Q(email__icontains=q)
        if digits:
            match |= Q(phone_number__contains=digits)
        queryset = queryset.filter(match)
    if status in Subscriber.Status.values:
        queryset = queryset.filter(status=status)
    tag = clean_text(tag, limit=50)
    if tag:
        queryset = queryset.filter(tags__business=business, tags__name=tag)
    return queryset.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name"))).order_by("-id")


def tag_names(*, business) -> list[str]:
    return list(Tag.objects.filter(business=business).order_by("name").values_list("name", flat=True))
