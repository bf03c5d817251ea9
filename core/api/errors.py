"""One error body for the whole API: {"error": {"code", "message", "details"}}."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ProviderError, Refusal

logger = logging.getLogger(__name__)


def error_body(*, code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    refusal = refused_request(exc, context["request"])
    if refusal is not None:
        return as_json(Response(refusal[1], status=refusal[0]), context)
    if isinstance(exc, Refusal):
        # Every service's refusal of a request, with its message for the user.
        body = error_body(code=exc.code, message=exc.message, details={exc.field: [exc.message]} if exc.field else {})
        return as_json(Response(body, status=exc.status_code), context)
    if isinstance(exc, ProviderError):
        # A provider call made while answering failed: the request may work later. The provider's
        # words (a status and its detail, never a credential) say what failed.
        logger.warning("provider error while answering %s: %s", context["request"].path, exc)
        message = str(exc) or gettext("The provider did not answer; try again shortly.")
        return as_json(Response(error_body(code="provider_unavailable", message=message), status=503), context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # With its reason when it gives one (a member whose role does not allow the operation).
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.ParseError) and "header size exceeded" in str(exc.detail):
        # Django's words for a multipart part whose headers pass 1 KB, which in practice is its file name.
        exc = exceptions.ParseError(
            gettext(
                "A part of the multipart body has headers over 1 KB: most likely a file name that long. "
                "Shorten the file name."
            ),
            code=getattr(exc.detail, "code", None),
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    details: dict[str, Any]
    if isinstance(exc, exceptions.ValidationError):
        message = gettext("The request is not valid; see details.")
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        code = "invalid"
    else:
        detail = getattr(exc, "detail", "")
        message = str(detail)
        details = {}
        code = getattr(detail, "code", "error")
        if isinstance(exc, exceptions.Throttled):
            # One code for every limit (DRF's request throttles and core.ratelimit alike).
            code = "rate_limited"
            wait = getattr(exc, "wait", None)  # set by Throttled's __init__, which the stubs leave out
            if wait is not None:
                details = {"retry_after_seconds": int(wait)}
    response.data = error_body(code=code, message=message, details=details)
    return as_json(response, context)


def as_json(response: Response, context) -> Response:
    # Errors are JSON whatever the view renders on success (the schema's YAML, the docs' HTML),
    # and whatever the client asked for: DRF renders with the request's renderer.
    context["request"].accepted_renderer = JSONRenderer()
    context["request"].accepted_media_type = JSONRenderer.media_type
    return response


def json_not_found(request, exception=None):
    """404 for /api/ paths outside any DRF view, in the same error body."""
    return JsonResponse(error_body(code="not_found", message=gettext("Not found.")), status=404)


def json_server_error(request):
    return JsonResponse(
        error_body(code="server_error", message=gettext("Something went wrong on our side.")), status=500
    )


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Every /api/ path no route takes, any method: ahead of Django's debug 404 page and of
    CommonMiddleware's APPEND_SLASH (which redirects, dropping a body, or raises on a POST in DEBUG)."""
    return json_not_found(request)


def json_bad_request(request, exception=None):
    refusal = refused_request(exception, request) if exception is not None else None
    status, body = refusal or (400, error_body(code="bad_request", message=gettext("The request could not be read.")))
    return JsonResponse(body, status=status)


def refused_request(exc, request) -> tuple[int, dict] | None:
    """The status and body for a request Django refuses to read (a SuspiciousOperation such as too big a
    body or too many files), logged as Django logs them; None for any other exception."""
    if not isinstance(exc, SuspiciousOperation):
        return None
    django_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        # As Django does: reading the body again would raise again (when logging the request, say).
        django_request._mark_post_parse_error()
    status, body = _refusal(exc)
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
        str(exc), extra={"status_code": status, "request": django_request}
    )
    return status, body


def _refusal(exc: SuspiciousOperation) -> tuple[int, dict]:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = gettext("The request's fields add up to more than %(size)s KB (files not counted).") % {
            "size": number_format(limit // 1024, force_grouping=True)
        }
        return 413, error_body(code="too_large", message=message, details={"max_bytes": limit})
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        message = ngettext(
            "More than %(limit)d file in one request; send them in smaller batches.",
            "More than %(limit)d files in one request; send them in smaller batches.",
            limit,
        ) % {"limit": limit}
        return 413, error_body(code="too_many_files", message=message, details={"max_files": limit})
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        message = ngettext(
            "More than %(limit)d field in one request.", "More than %(limit)d fields in one request.", limit
        ) % {"limit": limit}
        return 413, error_body(code="too_many_fields", message=message, details={"max_fields": limit})
    return 400, error_body(code="bad_request", message=gettext("The request could not be read."))
