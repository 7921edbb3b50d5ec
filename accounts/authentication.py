"""API authentication: `Authorization: Token <token>`; the token names the business the request acts for."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _user, token = result
            request._request.business = token.business
        return result


class TokenScheme(KnoxTokenScheme):
    """Documents the token header in the OpenAPI schema: drf-spectacular's knox extension matches knox's own class
    only, and without this the schema would declare no way to authenticate."""

    target_class = TokenAuthentication
    name = "tokenAuth"
