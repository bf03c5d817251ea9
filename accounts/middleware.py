"""The website's language for a signed-in user (after LocaleMiddleware and authentication)."""

from django.utils import translation

from accounts import services
from core.middleware import language_from_accept_header


class UserLanguageMiddleware:
    """After LocaleMiddleware (cookie, then Accept-Language): a signed-in user's saved language wins
    on the website; the API answers in the language of Accept-Language alone, as programs expect.

    A signed-in user without a saved language gets the language LocaleMiddleware chose, and it is
    noted on the account (`User.browser_language`) when it changed, for the emails a worker sends
    later. It lives here, not in core, because it reads and writes the accounts' User."""

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._language(request)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

    def _language(self, request) -> str:
        if request.path.startswith(self.API_PREFIX):
            return language_from_accept_header(request.headers.get("Accept-Language", ""))
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ""
        if user.language:
            return user.language
        services.user_note_browser_language(user=user, language=translation.get_language())
        return ""
