"""Sets request.business for dashboard sessions; API token authentication sets it for tokens."""

from .selectors import default_business_for


class BusinessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.business = default_business_for(user=user) if user is not None and user.is_authenticated else None
        return self.get_response(request)
