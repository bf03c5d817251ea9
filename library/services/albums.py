"""Albums: the user's own groups of library items (an item may be in many)."""

import enum
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.exceptions import Refusal
from library.models import Album, AlbumItem, LibraryItem
from library.visibility import items_scope
from projects.access import Can


class AlbumError(Refusal):
    """An album request we refuse, with a message for the user."""

    code = "invalid"
    status_code = 400


ALBUM_NAME_MAX = 120
# Ids accepted in one add or remove; a bigger selection is refused rather than half done.
ALBUM_ITEMS_PER_CHANGE = 500


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


# What `album_update` leaves as it is (None is a value there: the default cover).
UNCHANGED = _Unchanged.UNCHANGED


def album_clean_name(name: str | None) -> str:
    """The name as stored (spaces collapsed), or AlbumError."""
    name = " ".join((name or "").split())
    if not name:
        raise AlbumError(_("Give the album a name."))
    if len(name) > ALBUM_NAME_MAX:
        raise AlbumError(
            ngettext(
                "Album names are at most %(count)s character.",
                "Album names are at most %(count)s characters.",
                ALBUM_NAME_MAX,
            )
            % {"count": ALBUM_NAME_MAX}
        )
    return name


def _album_item_ids(item_ids: Iterable) -> list[int]:
    try:
        ids = sorted({int(item_id) for item_id in item_ids})
    except (TypeError, ValueError) as error:
        raise AlbumError(_("Items are given by their numeric ids."), field="items") from error
    if len(ids) > ALBUM_ITEMS_PER_CHANGE:
        raise AlbumError(
            ngettext(
                "Pick at most %(count)s item at a time.",
                "Pick at most %(count)s items at a time.",
                ALBUM_ITEMS_PER_CHANGE,
            )
            % {"count": ALBUM_ITEMS_PER_CHANGE},
            field="items",
        )
    return ids


def album_create(*, user: User, name: str, item_ids: Iterable = ()) -> Album:
    name = album_clean_name(name)
    with transaction.atomic():
        album = Album.objects.create(user=user, name=name)
        if item_ids:
            album_add_items(album=album, item_ids=item_ids)
    return album


def album_rename(*, album: Album, name: str) -> Album:
    album.name = album_clean_name(name)
    album.save(update_fields=["name"])
    return album


def album_update(
    *, album: Album, name: str | _Unchanged = UNCHANGED, cover: int | None | _Unchanged = UNCHANGED
) -> Album:
    """Rename the album and/or set its cover, all or nothing: one refusal leaves both as they were."""
    with transaction.atomic():
        if not isinstance(name, _Unchanged):
            album_rename(album=album, name=name)
        if not isinstance(cover, _Unchanged):
            album_set_cover(album=album, item_id=cover)
    return album


def album_add_items(*, album: Album, item_ids: Iterable) -> int:
    """Add items the album's owner may change (their own, and those of projects where they may
    edit); any other id refuses the whole change: one they may only view with 403, one they may not
    see as an unknown id. Returns how many were new."""
    ids = _album_item_ids(item_ids)
    if not ids:
        raise AlbumError(_("Pick at least one item to add."), field="items")
    user = album.user
    visible = LibraryItem.objects.filter(items_scope(user=user), id__in=ids).outside_trash()
    seen = set(visible.values_list("id", flat=True))
    if seen != set(ids):
        raise AlbumError(_("Only items in your own library can be added to your albums."), field="items")
    if visible.filter(items_scope(user=user, capability=Can.EDIT)).count() != len(seen):
        raise PermissionDenied  # a viewer of the item's project
    with transaction.atomic():
        present = set(AlbumItem.objects.filter(album=album, item_id__in=ids).values_list("item_id", flat=True))
        # Adding an item twice is a no-op, also when two requests race.
        AlbumItem.objects.bulk_create(
            [AlbumItem(album=album, item_id=item_id) for item_id in ids if item_id not in present],
            ignore_conflicts=True,
        )
    return len(set(ids) - present)


def album_remove_items(*, album: Album, item_ids: Iterable) -> int:
    """Take items out of the album (they stay in the library). Returns how many were removed."""
    ids = _album_item_ids(item_ids)
    with transaction.atomic():
        removed = AlbumItem.objects.filter(album=album, item_id__in=ids).delete()[0]
        if album.cover_id in ids:
            album.cover = None
            Album.objects.filter(id=album.id).update(cover=None)
    return removed


def album_set_cover(*, album: Album, item_id: int | None) -> Album:
    """Use one of the album's items as its cover; None goes back to the first item added."""
    if item_id is not None and not AlbumItem.objects.filter(album=album, item_id=item_id).exists():
        raise AlbumError(_("Pick one of this album's items as its cover."))
    album.cover_id = item_id
    album.save(update_fields=["cover"])
    return album


def album_delete(*, album: Album) -> None:
    """Delete the album only: its items stay in the library."""
    album.delete()
