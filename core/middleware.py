import functools
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import trans_real

from core import logging as log_context
from core.exceptions import Refusal
from core.files import StoredFileMissing

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


class CacheControlMiddleware:
    """Nothing of one user's is kept by a shared cache (a proxy, a CDN), nor reused unchecked.

    API answers are `private` (a proxy cannot tell bearer tokens apart); pages for a logged-in
    user are `private, no-cache` (the browser asks again each time, so Back after logging out or
    in as someone else shows nothing stale). A view that sets its own Cache-Control keeps it: pages
    and answers showing a secret (a new API token, share links) use never_cache, which adds
    no-store; file views allow a short private reuse; public share pages say no-store. Static files
    never get here: WhiteNoise answers them earlier, with its own long-lived headers.
    """

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        if request.path_info.startswith(self.API_PREFIX):
            patch_cache_control(response, private=True)
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        return response


class StoredFileMissingMiddleware:
    """A website view whose stored file is gone answers the 410 page (API views answer their error
    body through DRF's exception handling, which catches it first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, StoredFileMissing):
            return render(request, "410.html", {"message": exception.detail}, status=exception.status_code)
        return None


# Where a view's refusals go when that is not back to the page the request came from.
REFUSAL_REDIRECT = "refusal_redirect_to"


def refusals_redirect_to(viewname: str, *kwarg_names: str) -> Callable:
    """A website view whose refusals go to `viewname` (reversed with these of the view's own
    keyword arguments) instead of back to the page the request came from; for a view whose form
    is on another page than the one it should show after a refusal, or that is posted without one."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            setattr(request, REFUSAL_REDIRECT, reverse(viewname, kwargs={name: kwargs[name] for name in kwarg_names}))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


class RefusalMessageMiddleware:
    """A website view whose service refuses the request (core.exceptions.Refusal) shows the refusal
    as an error message on the page the request came from: the Referer when it is on this site,
    else the home page (a refused GET goes home too: going back could ask again). A view marked with
    `refusals_redirect_to` goes where it says. A view that re-renders its form with the refusal
    beside the typed values catches it itself. The API answers refusals with its error body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Refusal) or request.path.startswith("/api/"):
            return None
        messages.error(request, exception.message)
        target = getattr(request, REFUSAL_REDIRECT, None)
        if target:
            return redirect(target)
        back = request.headers.get("Referer", "")
        if request.method == "GET" or not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = "/"
        return redirect(back)


def language_from_accept_header(header: str) -> str:
    """The first shipped language the header accepts ("es-MX" is served Spanish), else English."""
    for accepted, _quality in trans_real.parse_accept_lang_header(header or ""):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
