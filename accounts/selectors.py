"""Reads for accounts: which business a request acts for, the team, invitations and API tokens."""

import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from nextalerts.phones import DEFAULT_REGION, phone_region

from .models import ApiToken, Business, Invitation, Membership, Role


def membership_for(*, user, business) -> Membership | None:
    if user is None or not user.is_authenticated or business is None:
        return None
    return Membership.objects.filter(user=user, business=business).first()


def default_business_for(*, user) -> Business | None:
    """The business a dashboard session acts for: the user's first (oldest) membership."""
    if user is None or not user.is_authenticated:
        return None
    membership = (
        Membership.objects.select_related("business")
        .filter(user=user)
        .exclude(business__status=Business.Status.DELETED)
        .order_by("created_at", "id")
        .first()
    )
    return membership.business if membership else None


def business_region(*, business: Business) -> str:
    """The business's country, for showing phone numbers: its own contact number's, else its first sending
    number's (the reverse relation the numbers declare on it), else the default (US)."""
    region = phone_region(business.phone)
    if region is None:
        first = business.numbers.order_by("id").values_list("phone_number", flat=True).first()
        region = phone_region(first)
    return region or DEFAULT_REGION


def memberships_of(*, user) -> list[Membership]:
    """The businesses a user can switch between (deleted ones excluded), by name."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.select_related("business")
        .filter(user=user)
        .exclude(business__status=Business.Status.DELETED)
        .order_by("business__name", "business_id")
    )


def team_members(*, business) -> QuerySet[Membership]:
    return Membership.objects.filter(business=business).select_related("user").order_by("created_at", "id")


def owners_count(*, business) -> int:
    return Membership.objects.filter(business=business, role=Role.OWNER).count()


def invitations_pending(*, business) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(business=business, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    """The pending invitation a link's token opens, or None (unknown, used, expired, or the business is gone)."""
    if not token or len(token) > 200:
        return None
    invitation = (
        Invitation.objects.select_related("business", "invited_by")
        .filter(token_hash=hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if invitation is None or not invitation.is_pending or invitation.business.status == Business.Status.DELETED:
        return None
    return invitation


def api_tokens_for(*, business) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(business=business).select_related("user").order_by("-created")
