import logging
import re
import time
import uuid

from core import logging as log_context

logger = logging.getLogger("core.requests")

# An incoming id is kept only if it cannot forge or break a log line: a short, plain token.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
QUIET_PATHS = ("/healthz",)


class RequestIdMiddleware:
    """Gives each request an id (the caller's X-Request-ID when sane), puts it on every log line
    and Celery task of the request, returns it in X-Request-ID, and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = log_context.bind(request_id=request_id, request=request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            # Health checks poll every few seconds: their successes are noise.
            quiet = request.path in QUIET_PATHS and response.status_code < 400
            logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s %s",
                request.method,
                request.get_full_path(),
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.get_full_path(),
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            log_context.unbind(token)
