"""One error body for the whole API: {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(*, code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is not valid; see details."
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        code = "invalid"
    else:
        detail = getattr(exc, "detail", "")
        message = str(detail)
        details = {}
        code = detail.code if hasattr(detail, "code") else "error"
        if isinstance(exc, exceptions.Throttled):
            # One code for every limit (DRF's request throttles and core.ratelimit alike).
            code = "rate_limited"
            if exc.wait is not None:
                details = {"retry_after_seconds": int(exc.wait)}
    response.data = error_body(code=code, message=message, details=details)
    return response


def json_not_found(request, exception=None):
    """404 for /api/ paths outside any DRF view, in the same error body."""
    return JsonResponse(error_body(code="not_found", message="Not found."), status=404)


def json_server_error(request):
    return JsonResponse(error_body(code="server_error", message="Something went wrong on our side."), status=500)
