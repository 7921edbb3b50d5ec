"""Template context for every page: material policy changes waiting for the user's acknowledgement, and the cookie
choice (whether to show the banner, whether the analytics script may load)."""

from django.conf import settings
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from . import cookies
from .policy import policy_notices_pending


def privacy(request):
    if request is None:
        return {}
    user = getattr(request, "user", None)
    choice = cookies.cookie_choice(request)
    return {
        # Lazy: the query runs only on pages that show notices (the dashboard's), and once per page.
        "policy_notices": SimpleLazyObject(lambda: policy_notices_pending(user=user)),
        "cookie_choice": choice,
        # With no analytics configured there is nothing to ask: essential cookies need no consent.
        "cookie_banner": cookies.analytics_available() and not choice,
        "cookie_analytics_available": cookies.analytics_available(),
        "cookie_settings_url": reverse("cookies"),
        "analytics_script_url": settings.ANALYTICS_SCRIPT_URL if cookies.analytics_allowed(request) else "",
    }
