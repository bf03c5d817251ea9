"""The user's albums with their covers, and the open album suggestions."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.models import User
from library.models import Album, AlbumItem, AlbumSuggestion, LibraryItem, outside_trash
from library.selectors.items import item_list_for_user
from library.visibility import items_scope


def album_list_for_user(*, user: User) -> QuerySet[Album]:
    """The user's albums, newest first, with their item count and the cover to show: both only of
    the items the user may still see (not those of a project they left)."""
    first_added = (
        AlbumItem.objects.filter(outside_trash("item__"), items_scope(user=user, prefix="item__"), album=OuterRef("pk"))
        .order_by("added_at", "id")
        .values("item_id")[:1]
    )
    return (
        Album.objects.filter(user=user)
        .select_related("cover__photo", "cover__generated_image")
        .defer("cover__embedding")
        .annotate(
            item_count=Count(
                "albumitem",
                filter=outside_trash("albumitem__item__") & items_scope(user=user, prefix="albumitem__item__"),
            ),
            first_item_id=Subquery(first_added),
            cover_visible=Exists(LibraryItem.objects.filter(items_scope(user=user), id=OuterRef("cover_id"))),
        )
        .order_by("-created_at", "-id")  # aggregation drops Meta.ordering
    )


def album_attach_covers(*, albums: Iterable[Album]) -> list[Album]:
    """Set `display_cover` on each album: its chosen cover, else its first item, else None (one query)."""
    albums = list(albums)
    for album in albums:
        if album.cover is not None and (
            album.cover.source is None or album.cover.source.trashed_at is not None or not album.cover_visible  # type: ignore[attr-defined]
        ):
            album.cover_id, album.cover = None, None  # a cover in the trash, or of a project left, is not shown
    # The first item added is album_list_for_user's annotation; display_cover is for the pages.
    first_items: dict[int, int | None] = {album.id: album.first_item_id for album in albums}  # type: ignore[attr-defined]
    missing = {first_items[album.id] for album in albums if album.cover_id is None and first_items[album.id]}
    fallback = (
        LibraryItem.objects.select_related("photo", "generated_image").defer("embedding").in_bulk(list(missing))
        if missing
        else {}
    )
    for album in albums:
        first = first_items[album.id]
        album.display_cover = album.cover if album.cover_id else fallback.get(first) if first else None  # type: ignore[attr-defined]
    return albums


def album_get_for_user(*, user: User, album_id: int) -> Album:
    return get_object_or_404(Album.objects.select_related("user"), user=user, id=album_id)


def album_items(*, album: Album) -> QuerySet[LibraryItem]:
    """The album's items in the order they were added."""
    return (
        item_list_for_user(user=album.user)
        .filter(albumitem__album=album)
        .order_by("albumitem__added_at", "albumitem__id")
    )


def album_suggestion_list_for_user(*, user: User) -> QuerySet[AlbumSuggestion]:
    """Open proposals, biggest first (they are made in that order), with their items (those the
    user may still see)."""
    items = (
        LibraryItem.objects.filter(items_scope(user=user))
        .outside_trash()
        .select_related("photo", "generated_image")
        .defer("embedding")
        .order_by("id")
    )
    return (
        AlbumSuggestion.objects.filter(user=user, status=AlbumSuggestion.Status.PROPOSED)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("id")
    )


def album_suggestion_get_for_user(*, user: User, suggestion_id: int) -> AlbumSuggestion:
    return get_object_or_404(AlbumSuggestion.objects.select_related("user"), user=user, id=suggestion_id)
