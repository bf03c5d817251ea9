from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_failure_limit
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, User


def api_token_list_for_user(*, user: User):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """The user's token, or 404: another user's token id is indistinguishable from a missing one."""
    return get_object_or_404(ApiToken, user=user, id=token_id)


def login_tries_left(*, request, email: str) -> int:
    """Failed log-ins this account may still have from this client address before the lockout."""
    credentials = {"username": email}
    return max(0, get_failure_limit(request, credentials) - AxesProxyHandler.get_failures(request, credentials))
