"""Response headers that limit what a page may do in the browser: the Content-Security-Policy and the
Permissions-Policy, on every response (pages, the API, the admin, errors).

The policy is strict because the templates carry no inline code: scripts and styles are files under /static/,
behaviour is wired from data- attributes by those scripts, and a bar's length is an SVG attribute, not a style. So a
string that ever slipped through escaping could not run. The shape of CONTENT_SECURITY_POLICY follows Django 6's
SECURE_CSP, so its ContentSecurityPolicyMiddleware can take over when the project moves to it.
"""

from urllib.parse import urlsplit

from django.conf import settings

CSP_HEADER = "Content-Security-Policy"
PERMISSIONS_HEADER = "Permissions-Policy"


def origin(url: str) -> str | None:
    """ "https://cdn.example/a.js" -> "https://cdn.example"; None for a relative or empty URL."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def csp_header(policy: dict[str, list[str]]) -> str:
    """{"default-src": ["'self'"], "object-src": ["'none'"]} -> "default-src 'self'; object-src 'none'"."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


def permissions_header(policy: dict[str, list[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} -> "camera=(), fullscreen=(self)"."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


class SecurityHeadersMiddleware:
    """Adds both headers unless the view set its own (a view that needs a different policy says so itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and CSP_HEADER not in response:
            response[CSP_HEADER] = csp_header(settings.CONTENT_SECURITY_POLICY)
        if settings.PERMISSIONS_POLICY and PERMISSIONS_HEADER not in response:
            response[PERMISSIONS_HEADER] = permissions_header(settings.PERMISSIONS_POLICY)
        return response
