from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, User


def api_token_list_for_user(*, user: User):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """The user's token, or 404: another user's token id is indistinguishable from a missing one."""
    return get_object_or_404(ApiToken, user=user, id=token_id)
