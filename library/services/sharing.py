"""Read-only share links to a generated image or an album."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.exceptions import Refusal
from generation.models import GeneratedImage
from generation.selectors import jobs_scope
from library.models import Album, ShareLink
from projects.access import Can

SHARE_MAX_DAYS = 365


class ShareNotAllowed(Refusal):
    """Why a share link cannot be made or changed; the message is for the user."""

    code = "invalid"
    status_code = 400


def share_create(
    *,
    user: User,
    generated_image: GeneratedImage | None = None,
    album: Album | None = None,
    expires_in_days: int | None = None,
) -> ShareLink:
    """A new read-only link to one of the user's generated images or albums; it may expire."""
    if (generated_image is None) == (album is None):
        raise ShareNotAllowed(_("Share one image or one album."))
    if (
        generated_image is not None
        and not GeneratedImage.objects.filter(
            jobs_scope(user=user, capability=Can.EDIT, prefix="generation__"), id=generated_image.id
        ).exists()
    ):
        raise ShareNotAllowed(_("You can only share your own images."))
    if album is not None and album.user_id != user.id:
        raise ShareNotAllowed(_("You can only share your own albums."))
    expires_at = None
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
            raise ShareNotAllowed(_("The expiry is a number of days."))
        if not 1 <= expires_in_days <= SHARE_MAX_DAYS:
            raise ShareNotAllowed(
                ngettext(
                    "A link can expire in 1 to %(max)s day, or never.",
                    "A link can expire in 1 to %(max)s days, or never.",
                    SHARE_MAX_DAYS,
                )
                % {"max": SHARE_MAX_DAYS}
            )
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    return ShareLink.objects.create(user=user, generated_image=generated_image, album=album, expires_at=expires_at)


def share_revoke(*, user: User, share: ShareLink) -> ShareLink:
    """Turn the link off for good. Revoking it again changes nothing."""
    if share.user_id != user.id:
        raise ShareNotAllowed(_("You can only revoke your own links."))
    if share.revoked_at is None:
        ShareLink.objects.filter(id=share.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
        share.refresh_from_db(fields=["revoked_at"])
    return share


def share_record_view(*, share: ShareLink) -> None:
    ShareLink.objects.filter(id=share.id).update(views=F("views") + 1)
