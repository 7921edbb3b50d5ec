"""What every API endpoint shares: the business-scoped base view, query-parameter filters, and the API's index."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, views, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from nextalerts.phones import InvalidPhoneNumber, to_e164


class BusinessScopedMixin:
    """Every queryset is built from the business the request acts for (token or session), never from the URL or
    body, so another business's object is simply not found: 404, never 403."""

    queryset = None

    def get_queryset(self):
        return self.queryset.model._default_manager.filter(business=self.request.business)

    def perform_create(self, serializer):
        serializer.save(business=self.request.business)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "business": getattr(self.request, "business", None)}


class BusinessViewSet(BusinessScopedMixin, viewsets.GenericViewSet):
    pass


def phone_filter(request, param="phone_number"):
    """The E.164 form of a `?phone_number=` filter, None when absent; a 400 saying what to fix when invalid."""
    raw = request.query_params.get(param)
    if raw is None:
        return None
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise exceptions.ValidationError({param: [str(exc)]}) from exc


def choice_filter(request, param, choices):
    value = request.query_params.get(param)
    if value is not None and value not in choices:
        raise exceptions.ValidationError({param: [f"'{value}' is not one of: {', '.join(choices)}."]})
    return value


class ApiRootView(views.APIView):
    """GET /api/v1/: what the API offers, as absolute URLs, and where its reference and schema are.

    Public and unauthenticated: it names addresses only, the same for everyone, so an expired token or none at all
    still finds its way to the log-in endpoint and the docs."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    resources: dict[str, str] = {}  # name -> URL name of its list endpoint, given by the URL map

    @extend_schema(exclude=True)
    def get(self, request):
        def url(name):
            return reverse(name, request=request)

        return Response(
            {
                "resources": {name: url(url_name) for name, url_name in self.resources.items()},
                "auth": {"signup": url("auth-signup"), "login": url("auth-login"), "logout": url("auth-logout")},
                "authentication": "Send `Authorization: Token <token>`; POST your email and password to auth.login.",
                "docs": url("api-docs"),
                "schema": url("api-schema"),
            }
        )
