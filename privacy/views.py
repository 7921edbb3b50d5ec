"""The public policy pages (/privacy/, /terms/ and each earlier version), a customer's acknowledgement of a material
change, and the cookie settings.

The policy pages need no login and set no cookies. Each version's words are a template named by its PolicyDocument
row; what they say about the product is checked against the code in tests/privacy/test_pages.py.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from . import cookies, policy
from .models import PolicyDocument

Kind = PolicyDocument.Kind


def _period(days: int) -> str:
    """A retention period as the policy words it: 365 days is "12 months", 1461 is "4 years"."""
    years, rest = divmod(days, 365)
    if years and rest <= years // 4 + 1:
        return "12 months" if years == 1 else f"{years} years"
    return f"{days} days" if days != 1 else "1 day"


def retention_periods() -> dict[str, str]:
    return {
        "messages": _period(settings.RETENTION_MESSAGE_DAYS),
        "webhooks": _period(settings.RETENTION_WEBHOOK_DAYS),
        "deleted_business": _period(settings.RETENTION_DELETED_BUSINESS_DAYS),
        "consent_evidence": _period(settings.RETENTION_CONSENT_EVIDENCE_DAYS),
        "audit": _period(settings.RETENTION_AUDIT_DAYS),
    }


def _page(request, document: PolicyDocument | None, *, current: PolicyDocument | None):
    if document is None:
        raise Http404("No such version")
    contact = policy.contact_email()
    context = {
        "document": document,
        "title": document.get_kind_display(),
        "is_current": current is not None and document.pk == current.pk,
        "current": current,
        "upcoming": policy.policy_upcoming(kind=document.kind),
        "versions": policy.policy_versions(kind=document.kind),
        "url_name": policy.KIND_URL_NAMES[document.kind],
        "contact_email": contact,
        "contact_is_placeholder": contact == policy.PLACEHOLDER_CONTACT_EMAIL,
        "retention": retention_periods(),
        "analytics_available": cookies.analytics_available(),
    }
    return render(request, document.template_name, context)


def _current(request, kind):
    current = policy.policy_current(kind=kind)
    return _page(request, current, current=current)


def _version(request, kind, version):
    return _page(
        request, policy.policy_by_version(kind=kind, version=version), current=policy.policy_current(kind=kind)
    )


@require_safe
def privacy_policy(request):
    return _current(request, Kind.PRIVACY)


@require_safe
def terms_of_service(request):
    return _current(request, Kind.TERMS)


@require_safe
def privacy_policy_version(request, version):
    return _version(request, Kind.PRIVACY, version)


@require_safe
def terms_of_service_version(request, version):
    return _version(request, Kind.TERMS, version)


# --- a material change: review and acknowledge -----------------------------------------------------------------------
def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy_review(request, pk):
    notice = policy.policy_notice_for(user=request.user, pk=pk)
    if notice is None:
        raise Http404("No such notice")
    if request.method == "POST":
        policy.policy_acknowledge(user=request.user, document=notice.document, request=request)
        return redirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
    return render(
        request,
        "privacy/review.html",
        {
            "notice": notice,
            "document": notice.document,
            "document_url": policy.policy_url(notice.document),
            "next": _safe_next(request, ""),
        },
    )


# --- cookie settings --------------------------------------------------------------------------------------------------
def _same_origin(request) -> bool:
    """Stands in for the CSRF token, which would need a cookie on pages that otherwise set none: browsers send
    Origin (or at least Referer) with a form POST, and another site cannot forge them."""
    source = request.headers.get("Origin") or ""
    if not source or source == "null":
        source = request.headers.get("Referer") or ""
    return bool(source) and urlsplit(source).netloc == request.get_host()


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def cookie_settings(request):
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if not _same_origin(request):
            return render(request, "privacy/cookies.html", _cookie_context(request, error="origin"), status=403)
        if choice not in cookies.CHOICES:
            return render(request, "privacy/cookies.html", _cookie_context(request, error="choice"), status=400)
        if request.headers.get("X-Requested-With") == "fetch":
            response = HttpResponse(status=204)
        else:
            response = redirect(_safe_next(request, reverse("cookies")))
        cookies.cookie_choice_set(response, request=request, choice=choice)
        return response
    return render(request, "privacy/cookies.html", _cookie_context(request))


def _cookie_context(request, *, error: str = "") -> dict:
    return {
        "title": "Cookie settings",
        "choice": cookies.cookie_choice(request),
        "analytics_available": cookies.analytics_available(),
        "next": _safe_next(request, ""),
        "error": error,
        "contact_email": policy.contact_email(),
    }
