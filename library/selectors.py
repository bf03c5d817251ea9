from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F
from django.shortcuts import get_object_or_404

from accounts.models import User
from library.models import LibraryItem, outside_trash


def item_list_for_user(
    *,
    user: User,
    project_id: int | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    favourites: bool = False,
):
    """The user's library items (none in the trash) with what their pages need, filtered."""
    items = LibraryItem.objects.filter(user=user).outside_trash()
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
        LibraryItem.objects.outside_trash().select_related(
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
        .annotate(album_size=Count("album__albumitem", filter=outside_trash("album__albumitem__item__")))
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
        .outside_trash()
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
            .outside_trash()
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

    first_added = (
        AlbumItem.objects.filter(outside_trash("item__"), album=OuterRef("pk"))
        .order_by("added_at", "id")
        .values("item_id")[:1]
    )
    return (
        Album.objects.filter(user=user)
        .select_related("cover__photo", "cover__generated_image")
        .defer("cover__embedding")
        .annotate(
            item_count=Count("albumitem", filter=outside_trash("albumitem__item__")),
            first_item_id=Subquery(first_added),
        )
        .order_by("-created_at", "-id")  # aggregation drops Meta.ordering
    )


def album_attach_covers(*, albums) -> list:
    """Set `display_cover` on each album: its chosen cover, else its first item, else None (one query)."""
    albums = list(albums)
    for album in albums:
        if album.cover_id and (album.cover.source is None or album.cover.source.trashed_at is not None):
            album.cover_id, album.cover = None, None  # a cover in the trash is not shown
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

    items = (
        LibraryItem.objects.outside_trash().select_related("photo", "generated_image").defer("embedding").order_by("id")
    )
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


# Trash
# ------------------------------------------------------------------------------
# Imports stay inside the functions below so this section merges cleanly with the rest of the file.

TRASH_KINDS = ("photos", "images")


@dataclass(frozen=True)
class TrashEntry:
    """A photo or generated image in the trash, as the trash page and the API show it."""

    kind: str  # one of TRASH_KINDS
    source: object  # the Photo or GeneratedImage
    name: str
    where: str
    trashed_at: datetime
    purge_at: datetime

    @property
    def id(self) -> int:
        return self.source.id

    @property
    def thumbnail_url(self) -> str:
        """Made when shown, so a long trash signs URLs only for the page on screen."""
        from generation import selectors as generation_selectors
        from projects import selectors as project_selectors

        if self.kind == "photos":
            return project_selectors.photo_url(photo=self.source, variant="thumbnail")
        return generation_selectors.image_url(image=self.source, variant="thumbnail")

    @property
    def restore_url(self) -> str:
        from django.urls import reverse

        return reverse(f"library:trash_restore_{self.kind}", args=[self.id])

    @property
    def delete_url(self) -> str:
        """The confirmation page (GET) of "delete permanently now", and its POST."""
        from django.urls import reverse

        return reverse(f"library:trash_delete_{self.kind}", args=[self.id])

    @property
    def days_left(self) -> int:
        """Days (started) until the periodic purge deletes it for good: 30 just after it was
        trashed, 1 on its last day, 0 once it is due."""
        import math

        from django.utils import timezone

        return max(0, math.ceil((self.purge_at - timezone.now()).total_seconds() / 86400))


def trash_purge_at(*, trashed_at: datetime) -> datetime:
    from datetime import timedelta

    from django.conf import settings

    return trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS)


def trash_entry(*, source) -> TrashEntry:
    """How the trash shows one photo (with its project) or generated image (with its job)."""
    from projects.models import Photo

    if isinstance(source, Photo):
        kind, name, where = "photos", source.original_filename, f"Photo in “{source.project.name}”"
    else:
        kind, name = "images", f"Image {source.index + 1} of generation #{source.generation_id}"
        where = f"Generated from “{source.generation.prompt[:80]}”"
    return TrashEntry(
        kind=kind,
        source=source,
        name=name,
        where=where,
        trashed_at=source.trashed_at,
        purge_at=trash_purge_at(trashed_at=source.trashed_at),
    )


def trash_for_user(*, user: User) -> list[TrashEntry]:
    """The user's photos and generated images in the trash, most recently trashed first."""
    from generation import selectors as generation_selectors
    from projects import selectors as project_selectors

    sources = [
        *project_selectors.photo_trash_for_user(user=user),
        *generation_selectors.image_trash_for_user(user=user),
    ]
    entries = [trash_entry(source=source) for source in sources]
    return sorted(entries, key=lambda entry: (entry.trashed_at, entry.kind, entry.id), reverse=True)


def trash_count_for_user(*, user: User) -> int:
    from generation import selectors as generation_selectors
    from projects import selectors as project_selectors

    return (
        project_selectors.photo_trash_for_user(user=user).count()
        + generation_selectors.image_trash_for_user(user=user).count()
    )


def trash_get_for_user(*, user: User, kind: str, object_id: int):
    """One photo or image of the user's in the trash, or 404."""
    from django.http import Http404

    from generation import selectors as generation_selectors
    from projects import selectors as project_selectors

    if kind == "photos":
        return project_selectors.photo_get_for_user(user=user, photo_id=object_id, trashed=True)
    if kind == "images":
        return generation_selectors.image_get_for_user(user=user, image_id=object_id, trashed=True)
    raise Http404
