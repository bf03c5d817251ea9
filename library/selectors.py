from datetime import date, datetime

from django.db.models import Count, F
from django.shortcuts import get_object_or_404

from accounts.models import User
from library.models import LibraryItem


def item_list_for_user(
    *,
    user: User,
    project_id: int | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    favourites: bool = False,
):
    """The user's library items with what their pages need, filtered."""
    items = LibraryItem.objects.filter(user=user)
    if project_id:
        items = items.filter(project_id=project_id)
    if kind in LibraryItem.Kind.values:
        items = items.filter(kind=kind)
    if since:
        items = items.filter(created_at__date__gte=since)
    if until:
        items = items.filter(created_at__date__lte=until)
    if favourites:
        items = items.filter(generated_image__favourite=True)
    # Tiles need the source's thumbnail, duplicates its size and the project's name; nothing of the
    # generation, whose wide row would be read for every item.
    return items.select_related("photo", "generated_image", "project").defer("embedding")


def item_get_for_user(*, user: User, item_id: int) -> LibraryItem:
    return get_object_or_404(
        LibraryItem.objects.select_related(
            "photo__project", "generated_image__generation__training_run", "generated_image__generation__project"
        ),
        user=user,
        id=item_id,
    )


def item_thumbnail_url(*, item: LibraryItem) -> str:
    from generation.selectors import image_url
    from projects.selectors import photo_url

    if item.kind == LibraryItem.Kind.PHOTO:
        return photo_url(photo=item.photo, variant="thumbnail")
    return image_url(image=item.generated_image, variant="thumbnail")


def item_full_url(*, item: LibraryItem) -> str:
    from generation.selectors import image_url
    from projects.selectors import photo_url

    if item.kind == LibraryItem.Kind.PHOTO:
        return photo_url(photo=item.photo, variant="training")
    return image_url(image=item.generated_image, variant="file")


# Sharing
# ------------------------------------------------------------------------------

SHARE_VARIANTS = ("thumbnail", "full")
_IMAGE_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}


def share_list_for_user(*, user: User):
    """The user's share links, newest first, with what the list page shows (no query per link)."""
    from django.db.models import Count

    from library.models import ShareLink

    return (
        ShareLink.objects.filter(user=user)
        .select_related("generated_image__generation", "album")
        .annotate(album_size=Count("album__albumitem"))
        .order_by("-created_at", "-id")
    )


def share_get_for_user(*, user: User, share_id: int):
    from library.models import ShareLink

    return get_object_or_404(ShareLink.objects.select_related("generated_image", "album"), user=user, id=share_id)


def share_album_for_user(*, user: User, album_id: int):
    from library.models import Album

    return get_object_or_404(Album, user=user, id=album_id)


def share_state(*, share) -> str:
    from django.utils import timezone

    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at is not None and share.expires_at <= timezone.now():
        return "expired"
    return "active"


def share_url(*, share) -> str:
    from django.urls import reverse

    return reverse("share:page", kwargs={"token": share.token})


def share_file_url(*, share, object_id: int, variant: str) -> str:
    from django.urls import reverse

    return reverse("share:file", kwargs={"token": share.token, "object_id": object_id, "variant": variant})


def share_item_url(*, share, object_id: int) -> str:
    """The viewer page of one picture of a shared album."""
    from django.urls import reverse

    return reverse("share:item", kwargs={"token": share.token, "object_id": object_id})


def share_album_items(*, share) -> list[LibraryItem]:
    """The shared album's items, in the order they were added; only ever the link owner's own."""
    if share.album_id is None:
        return []
    return list(
        LibraryItem.objects.filter(albumitem__album_id=share.album_id, user_id=share.user_id)
        .select_related("photo", "generated_image__generation")
        .defer("embedding", "description")
        .order_by("albumitem__added_at", "id")
    )


def share_file(*, share, object_id: int, variant: str):
    """(stored file, content type) of something the link shares, or None.

    An image link serves only its image (`object_id` is the image's id); an album link serves only
    the items in that album (`object_id` is the item's id). Photos are served as their processed
    copies, which carry no EXIF or location data; never as the uploaded original.
    """
    if variant not in SHARE_VARIANTS:
        return None
    if share.generated_image_id is not None:
        if object_id != share.generated_image_id:
            return None
        image = share.generated_image
    else:
        item = (
            LibraryItem.objects.filter(id=object_id, albumitem__album_id=share.album_id, user_id=share.user_id)
            .select_related("photo", "generated_image")
            .defer("embedding")
            .first()
        )
        if item is None:
            return None
        if item.kind == LibraryItem.Kind.PHOTO:
            field = item.photo.thumbnail if variant == "thumbnail" else item.photo.training_image
            return (field, "image/webp" if variant == "thumbnail" else "image/jpeg") if field else None
        image = item.generated_image
    if variant == "thumbnail":
        return (image.thumbnail, "image/webp") if image.thumbnail else None
    return (image.file, _IMAGE_TYPES.get(image.format, "image/webp")) if image.file else None


# Albums and suggestions
# ------------------------------------------------------------------------------
# Imports stay inside the functions below so this section merges cleanly with the rest of the file.


def album_list_for_user(*, user: User):
    """The user's albums, newest first, with their item count and the cover to show."""
    from django.db.models import Count, OuterRef, Subquery

    from library.models import Album, AlbumItem

    first_added = AlbumItem.objects.filter(album=OuterRef("pk")).order_by("added_at", "id").values("item_id")[:1]
    return (
        Album.objects.filter(user=user)
        .select_related("cover__photo", "cover__generated_image")
        .defer("cover__embedding")
        .annotate(item_count=Count("albumitem"), first_item_id=Subquery(first_added))
        .order_by("-created_at", "-id")  # aggregation drops Meta.ordering
    )


def album_attach_covers(*, albums) -> list:
    """Set `display_cover` on each album: its chosen cover, else its first item, else None (one query)."""
    albums = list(albums)
    missing = {album.first_item_id for album in albums if album.cover_id is None and album.first_item_id}
    fallback = (
        LibraryItem.objects.select_related("photo", "generated_image").defer("embedding").in_bulk(list(missing))
        if missing
        else {}
    )
    for album in albums:
        album.display_cover = album.cover if album.cover_id else fallback.get(album.first_item_id)
    return albums


def album_get_for_user(*, user: User, album_id: int):
    from library.models import Album

    return get_object_or_404(Album.objects.select_related("user"), user=user, id=album_id)


def album_items(*, album):
    """The album's items in the order they were added."""
    return (
        item_list_for_user(user=album.user)
        .filter(albumitem__album=album)
        .order_by("albumitem__added_at", "albumitem__id")
    )


def album_suggestion_list_for_user(*, user: User):
    """Open proposals, biggest first (they are made in that order), with their items."""
    from django.db.models import Prefetch

    from library.models import AlbumSuggestion

    items = LibraryItem.objects.select_related("photo", "generated_image").defer("embedding").order_by("id")
    return (
        AlbumSuggestion.objects.filter(user=user, status=AlbumSuggestion.Status.PROPOSED)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("id")
    )


def album_suggestion_get_for_user(*, user: User, suggestion_id: int):
    from library.models import AlbumSuggestion

    return get_object_or_404(AlbumSuggestion.objects.select_related("user"), user=user, id=suggestion_id)


def item_status_counts() -> dict[str, int]:
    """Library items of every user per analysis status (operators)."""
    rows = LibraryItem.objects.order_by().values_list("status").annotate(count=Count("id"))
    return dict(rows)


def items_stuck(*, since: datetime):
    """Items still waiting for analysis since before `since`, oldest first: what library_reconcile
    re-queues (operators)."""
    return (
        LibraryItem.objects.filter(status=LibraryItem.Status.PENDING, created_at__lt=since)
        .annotate(stuck_since=F("created_at"))
        .defer("embedding")
        .order_by("created_at", "id")
    )
