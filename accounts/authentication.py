"""API authentication: `Authorization: Token <token>`; the token names the business the request acts for."""

from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _user, token = result
            request._request.business = token.business
        return result
