"""Reads for accounts: which business a request acts for."""

from .models import Business, Membership


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
