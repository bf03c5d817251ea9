from django.http import JsonResponse
from django.urls import Resolver404, resolve

from core.api import errors

API_PREFIX = "/api/"


class ApiPathMiddleware:
    """Under /api/, where every path ends in a slash: a path given without it is served as the path
    with it, for every method (clients of the old /api/v1/me keep working, and no redirect drops a
    POST body; Django's APPEND_SLASH redirects, or raises on a POST in DEBUG). A path that is no
    route either way meets errors.not_found_view. And a request body Django refuses to read (too
    big, too many files) outside a DRF view is answered in the API's error body, in DEBUG too.
    Goes before CommonMiddleware, which then finds the path valid and leaves it alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/") and self._is_route(path + "/"):
            request.path_info = path + "/"
            request.path = request.path + "/"
        return self.get_response(request)

    @staticmethod
    def _is_route(path: str) -> bool:
        try:
            return resolve(path).func is not errors.not_found_view
        except Resolver404:
            return False

    def process_exception(self, request, exception):
        if not request.path_info.startswith(API_PREFIX):
            return None
        refusal = errors.refused_request(exception, request)
        return JsonResponse(refusal[1], status=refusal[0]) if refusal else None
