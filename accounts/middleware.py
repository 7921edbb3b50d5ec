"""Sets request.business for dashboard sessions; API token authentication sets it for tokens."""

import zoneinfo

from django.utils import timezone

from nextalerts import phones

from .models import Business, Membership
from .selectors import business_region, default_business_for

SESSION_BUSINESS_KEY = "business_id"  # the business a dashboard session chose, when the user belongs to several


class BusinessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.business = self._business(request)
        # Dashboard pages show times in the business's own time zone, and its country's numbers in national form.
        business = request.business
        if business is not None:
            timezone.activate(zoneinfo.ZoneInfo(business.time_zone))
            phones.activate_region(lambda: business_region(business=business))
        else:
            timezone.deactivate()
            phones.deactivate_region()
        try:
            return self.get_response(request)
        finally:
            phones.deactivate_region()

    @staticmethod
    def _business(request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        chosen = request.session.get(SESSION_BUSINESS_KEY)
        if chosen is not None:
            membership = (
                Membership.objects.select_related("business")
                .filter(user=user, business_id=chosen)
                .exclude(business__status=Business.Status.DELETED)
                .first()
            )
            if membership is not None:
                return membership.business
        return default_business_for(user=user)
