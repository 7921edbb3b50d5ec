"""What every dashboard page shares: who may open it, the business it acts for, the navigation, paging.

Pages take the business from `request.business` (set by accounts.middleware.BusinessMiddleware from the session),
never from the URL, and look every object up inside it: another business's object is a 404, like one that does not
exist.
"""

import functools
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from .models import Business, Role
from .roles import may, permits, role_needed
from .selectors import membership_for, memberships_of


def dashboard_view(resource: str, action: str = "view", *, post: str | None = None):
    """Require a logged-in member of the current business whom the role map (accounts/roles.py) lets do `action` on
    `resource` (for any method) and, when given, `post` for POST. Sets `request.membership`. A user without the role
    sees a page that says which role the action needs (403), not an error."""
    role_needed(resource, action)  # an action the map does not hold fails at import, not at the first request
    if post is not None:
        role_needed(resource, post)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(user=request.user, business=getattr(request, "business", None))
            if membership is None:
                return redirect("no-business")
            if membership.business.status == Business.Status.DELETED:
                return redirect("no-business")
            request.membership = membership
            wanted = post if (post and request.method == "POST") else action
            if not may(membership, resource, wanted):
                return forbidden(request, resource, wanted)
            return view(request, *args, **kwargs)

        wrapper.role_map_entry = (resource, action, post)
        return wrapper

    return decorator


def forbidden(request, resource: str, action: str):
    """The 403 page: which role `action` on `resource` needs, and the member's own."""
    return render(
        request,
        "dashboard/forbidden.html",
        {
            "needed_role": Role(role_needed(resource, action)).label,
            "your_role": Role(request.membership.role).label,
        },
        status=403,
    )


def form_add_service_errors(form, exc: ValidationError, *, renamed: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: next to the field it names (`renamed` maps the service's names,
    which are the API's, to the form's), or above the form when it names none the form has."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        field = (renamed or {}).get(name, name)
        form.add_error(field if field in form.fields else None, messages)


def can(request, resource: str, action: str) -> bool:
    """Whether the current member may do `action` on `resource` (for showing or hiding controls; the view checks
    again)."""
    return may(getattr(request, "membership", None), resource, action)


def business_object(request, queryset_or_model, **lookup):
    """One object of the current business, or 404 (whether it is missing or belongs to another business)."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    return get_object_or_404(queryset.filter(business=request.business), **lookup)


def paginate(request, queryset, *, per_page: int = 50):
    """The requested page of `queryset` (bad or out-of-range page numbers give the nearest page, never an error)."""
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def query_without_page(request) -> str:
    """The current query string without `page`, for pagination links that keep the filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    resource: str  # shown to whoever may view it (accounts/roles.py)
    debug_only: bool = False


# The sidebar, in order. Items whose page is not installed, or needs a role the member lacks, are left out.
NAVIGATION = [
    NavItem("Overview", "dashboard:overview", "overview"),
    NavItem("Subscribers", "dashboard:subscribers", "subscribers"),
    NavItem("Inbox", "dashboard:inbox", "messages"),
    NavItem("Campaigns", "dashboard:campaigns", "campaigns"),
    NavItem("QR codes", "dashboard:qr-codes", "qr_codes"),
    NavItem("Numbers & keywords", "dashboard:numbers", "numbers"),
    NavItem("Compliance", "dashboard:compliance", "consent_events"),
    NavItem("Settings", "dashboard:settings", "business"),
    NavItem("Phone simulator", "dashboard:simulator", "simulator", debug_only=True),
]


def navigation(request):
    """Context processor: the sidebar for the current member, with the current section marked."""
    from django.conf import settings

    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    items = []
    for item in NAVIGATION:
        if item.debug_only and not settings.DEBUG:
            continue
        if not may(membership, item.resource, "view"):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != reverse_or_none("dashboard:overview") and request.path.startswith(url))
        items.append({"label": item.label, "url": url, "current": current})
    return {
        "nav_items": items,
        # Called only where the template shows the business switcher (the top bar): one query.
        "switch_memberships": functools.partial(memberships_of, user=request.user),
        "home_url": reverse_or_none("dashboard:overview") or "/",
        "logout_url": reverse_or_none("logout"),
        "membership": membership,
        "business": membership.business,
        # What the member may do, from the role map: `{% if may.campaigns.create %}` shows a control (the view checks
        # again). can_admin and can_own are the bare roles; a control that stands for an action asks `may`.
        "may": permits(membership),
        "can_admin": membership.has_role(Role.ADMIN),
        "can_own": membership.has_role(Role.OWNER),
        "public_base_url": settings.PUBLIC_BASE_URL,
        "public_base_url_is_loopback": is_loopback_url(settings.PUBLIC_BASE_URL),
    }


def is_loopback_url(url: str) -> bool:
    """True when only this machine can open `url` (127.0.0.1, ::1, localhost): a phone scanning a QR code built on
    it, or a teammate clicking an invitation, cannot reach the service."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reverse_or_none(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
