"""The OpenAPI schema's view of errors: every operation declares the error statuses it can answer, with the API's
{"error": "...", "details": {...}} body (nextalerts.rest.exception_handler), besides the answers its view declares.

Which ones follow from how the view is built, so a new endpoint gets them without asking: 401 and 403 wherever a
token is needed (no or a dead token; a role, or a session's CSRF check, that does not allow it), 404 where the path
names an object or a list takes a cursor, 400 for every write and wherever a query parameter can be wrong, and 429 with
Retry-After where a view is throttled. Others an endpoint adds itself with `error_response()` (campaign drafting's
429, 502 and 503). A serializer field with `nullable_on_read = True` is declared nullable in answers only.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong and what to fix, in one readable sentence.")
    details = serializers.JSONField(
        required=False,
        help_text="With a 400 only: the problems by field name, each a list of messages (nested for nested fields).",
    )


RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."},
}

DESCRIPTIONS = {
    "400": "The request is not valid: `error` says what to fix, `details` lists it by field.",
    "401": "No token, or one that expired or was revoked: log in again at /api/v1/auth/login/.",
    "403": "Your role in this business may not do this (or a session's CSRF check failed).",
    "404": "No such object in your business (or a `cursor` that is not one this list gave).",
    "429": "Too many requests: wait Retry-After seconds.",
}


def error_response(description: str) -> OpenApiResponse:
    """An error answer an endpoint declares itself in `extend_schema(responses=...)`."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A field required when written may read as null, e.g. a campaign's number once the number is deleted.
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "response" and getattr(field, "nullable_on_read", False):
            schema = {**schema, "nullable": True}
        return schema

    def _error_statuses(self) -> list[str]:
        view = self.view
        statuses = []
        guarded = any(
            not issubclass(permission, permissions.AllowAny) for permission in getattr(view, "permission_classes", [])
        )
        # Any write may be refused for the state of what it writes to (deleting a campaign that was sent).
        has_input = self.method not in ("GET", "HEAD", "OPTIONS") or bool(self.get_override_parameters())
        listed = self._is_list_view() and self._get_paginator() is not None
        if has_input or listed:
            statuses.append("400")
        if guarded:
            statuses += ["401", "403"]
        if "{" in self.path or listed:
            statuses.append("404")
        if view.get_throttles():
            statuses.append("429")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    error_response(DESCRIPTIONS[status]), status, media_types=["application/json"], direction=direction
                )
        for status, response in responses.items():
            if status == "429":
                response.setdefault("headers", {}).update(RETRY_AFTER)
        return responses
