"""API-wide settings: cursor pagination, and errors shaped as {"error": "...", "details": {...}}.

Kept apart from nextalerts.api, which imports DRF's viewsets: DRF resolves these classes while importing them.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(CursorPagination):
    """{"results": [...], "next": url|null, "previous": url|null}; stable under inserts, no COUNT(*)."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = (
        f"Results per page, a whole number from 1 to {max_page_size} (default {CursorPagination.page_size})."
    )
    cursor_query_description = "Where the page starts: copy it from a `next` or `previous` link, never build it."

    def get_page_size(self, request):
        # DRF falls back to the default on a page_size it cannot read and cuts one too large: both would hide a
        # mistake from the caller, so they are a 400 that says what is accepted.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            message = f"Give a whole number from 1 to {self.max_page_size}."
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


def _flatten(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            yield from _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield f"{prefix}: {detail}" if prefix else str(detail)


def exception_handler(exc, context):
    """DRF's handler, with every error shaped as {"error": "<one readable sentence>", "details": {...}}."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found: no such object in your business.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        message = str(detail["detail"])
    else:
        message = " ".join(_flatten(detail))
    body = {"error": message}
    if isinstance(exc, exceptions.ValidationError):
        body["details"] = detail
    response.data = body
    return response


def schema_drop_duplicate_routes(endpoints):
    """drf-spectacular hook: the QR images are routed with and without the router's trailing slash; the schema
    documents the file-like address only."""
    return [e for e in endpoints if not e[0].endswith(("/image.svg/", "/image.png/"))]
