"""The OpenAPI schema documents the error answers too, so clients (and schema checks) can rely on them."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers


class ApiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: invalid, not_found, rate_limited, ...")
    message = serializers.CharField(help_text="For people.")
    details = serializers.DictField(
        help_text="Per-field (or per-parameter) messages for `invalid`; `retry_after_seconds` when limited; "
        "`max_bytes`, `max_files` or `max_fields` when too large."
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorDetailSerializer()


PROVIDER_UNAVAILABLE = OpenApiResponse(
    ApiErrorSerializer, description="The AI provider could not be reached; try again in a minute."
)
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_responses():
            if code not in responses:
                error = OpenApiResponse(ApiErrorSerializer, description=description)
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
        return responses

    def _error_responses(self):
        body = self._get_request_body() is not None
        parameters = self._get_parameters()
        # Query parameters are validated too (core.api.filters, the pagination): a bad value is a 400.
        if body or any(parameter.get("in") == "query" for parameter in parameters):
            yield "400", "The request is not valid; `details` says what to change."
        if any(
            isinstance(permission, type) and issubclass(permission, permissions.IsAuthenticated)
            for permission in self.view.permission_classes
        ):
            yield "401", "No valid credentials: a missing, unknown, revoked or expired token."
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            yield (
                "403",
                (
                    "Your role in the project does not allow this (`message` says so), or a browser session "
                    "without its CSRF token (bearer tokens need none)."
                ),
            )
        if any(parameter.get("in") == "path" for parameter in parameters):
            yield "404", "Not found, or not yours: the two are indistinguishable."
        elif self._is_list_view() and self._get_paginator():
            yield "404", "The page number is past the last page."
        if body:
            yield "413", "Too big a body, or too many files or fields (`details` gives the limit)."
            yield "415", "The body is not JSON, form data or multipart."
        yield "429", "Too many requests; wait for Retry-After seconds."
