"""The owner's share links, and what a link shows to anyone who has it."""

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core import formats
from generation.models import GeneratedImage
from generation.selectors import jobs_scope
from library.models import Album, LibraryItem, ShareLink, outside_trash
from library.visibility import items_visible_to
from projects.access import Can

SHARE_VARIANTS = ("thumbnail", "full")


def share_list_for_user(*, user: User) -> QuerySet[ShareLink]:
    """The user's share links, newest first, with what the list page shows (no query per link)."""
    return (
        ShareLink.objects.filter(user=user)
        .select_related("generated_image__generation", "album")
        .annotate(album_size=Count("album__albumitem", filter=outside_trash("album__albumitem__item__")))
        .order_by("-created_at", "-id")
    )


def share_get_for_user(*, user: User, share_id: int) -> ShareLink:
    return get_object_or_404(ShareLink.objects.select_related("generated_image", "album"), user=user, id=share_id)


def share_album_for_user(*, user: User, album_id: int) -> Album:
    return get_object_or_404(Album, user=user, id=album_id)


def share_state(*, share: ShareLink) -> str:
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at is not None and share.expires_at <= timezone.now():
        return "expired"
    return "active"


def share_url(*, share: ShareLink) -> str:
    return reverse("share:page", kwargs={"token": share.token})


def share_file_url(*, share: ShareLink, object_id: int, variant: str) -> str:
    return reverse("share:file", kwargs={"token": share.token, "object_id": object_id, "variant": variant})


def share_item_url(*, share: ShareLink, object_id: int) -> str:
    """The viewer page of one picture of a shared album."""
    return reverse("share:item", kwargs={"token": share.token, "object_id": object_id})


def share_album_items(*, share: ShareLink) -> list[LibraryItem]:
    """The shared album's items, in the order they were added; only those the link's owner may
    still change (their own, their projects' where they edit: leaving a project takes its items out)."""
    if share.album_id is None:
        return []
    return list(
        items_visible_to(share.user_id, Can.EDIT)
        .filter(outside_trash(), albumitem__album_id=share.album_id)
        .select_related("photo", "generated_image__generation")
        .defer("embedding", "description")
        .order_by("albumitem__added_at", "id")
    )


def share_file(*, share: ShareLink, object_id: int, variant: str) -> tuple[FieldFile, str] | None:
    """(stored file, content type) of something the link shares, or None.

    An image link serves only its image (`object_id` is the image's id); an album link serves only
    the items in that album (`object_id` is the item's id). Photos are served as their processed
    copies, which carry no EXIF or location data; never as the uploaded original.
    """
    if variant not in SHARE_VARIANTS:
        return None
    if share.generated_image is not None:
        if object_id != share.generated_image_id:
            return None
        image = share.generated_image
    elif share.album_id is None:
        return None
    else:
        item = (
            items_visible_to(share.user_id, Can.EDIT)
            .filter(outside_trash(), id=object_id, albumitem__album_id=share.album_id)
            .select_related("photo", "generated_image")
            .defer("embedding")
            .first()
        )
        if item is None:
            return None
        if item.photo is not None:
            field = item.photo.thumbnail if variant == "thumbnail" else item.photo.training_image
            # Thumbnails are stored as WebP, training copies as JPEG.
            content_type = formats.CONTENT_TYPES["WEBP" if variant == "thumbnail" else "JPEG"]
            return (field, content_type) if field else None
        if item.generated_image is None:
            return None
        image = item.generated_image
    if variant == "thumbnail":
        return (image.thumbnail, formats.CONTENT_TYPES["WEBP"]) if image.thumbnail else None
    webp = formats.CONTENT_TYPES["WEBP"]
    content_type = formats.content_type_for(formats.PIL_FORMATS.get(image.format), default=webp)
    return (image.file, content_type) if image.file else None


def share_resolve(*, token: str) -> ShareLink | None:
    """The live link with this token, or None when it is unknown, revoked or expired."""
    if not token or len(token) > 64:
        return None
    share = (
        ShareLink.objects.select_related("generated_image__generation", "album", "user")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        # A link to an image in the trash shows nothing until the image is restored.
        .filter(generated_image__trashed_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
    if share is not None and share.generated_image_id is not None:
        # Only while its maker may still change the image (they may have left its project).
        editable = jobs_scope(user=share.user, capability=Can.EDIT, prefix="generation__")
        if not GeneratedImage.objects.filter(editable, id=share.generated_image_id).exists():
            return None
    return share
