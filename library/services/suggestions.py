"""Suggested albums: the user's items clustered by meaning, proposed once, accepted or dismissed."""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext

from accounts.models import User
from library import analysis
from library.clustering import album_clusters
from library.models import Album, AlbumSuggestion, LibraryItem
from library.selectors import library_vectors
from library.services.albums import ALBUM_NAME_MAX, AlbumError, album_add_items, album_clean_name, album_create
from library.visibility import items_scope
from projects.access import Can

# Tags that say what kind of file an item is rather than what it shows: no use in a title.
_GENERIC_TAGS = {
    "photo",
    "generated",
    "landscape",
    "portrait",
    "square",
    "people",
    "person",
    "product",
    *analysis.COLOUR_NAMES,
}


def album_suggestion_key(item_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(item_id) for item_id in sorted(item_ids)).encode()).hexdigest()


def _date_span(moments: list[datetime]) -> str:
    first, last = (timezone.localtime(moment) for moment in (min(moments), max(moments)))
    if first.date() == last.date():
        return date_format(first, "j M Y")
    if (first.year, first.month) == (last.year, last.month):
        return date_format(first, "M Y")
    if first.year == last.year:
        return f"{date_format(first, 'M')}–{date_format(last, 'M Y')}"
    return f"{date_format(first, 'M Y')} – {date_format(last, 'M Y')}"


def _names_content(tag: str, *, item: LibraryItem) -> bool:
    """False for what the file says rather than what the picture shows: its kind, orientation and
    colours, the camera and the date."""
    return tag.lower() not in _GENERIC_TAGS and tag != item.camera and not any(char.isdigit() for char in tag)


def _phrases_for_words(tags: list[str]) -> list[str]:
    """A phrase stands for its words: "red barn, snowy field", not "barn, snowy, field"."""
    kept: list[str] = []
    for tag in tags:
        words = set(tag.split())
        if any(words <= set(other.split()) for other in kept):
            continue
        kept = [other for other in kept if not set(other.split()) <= words]
        kept.append(tag)
    return kept


def album_suggestion_title(*, items: list[LibraryItem]) -> str:
    """The words at least half of the items share (earlier tags first on a tie), and their dates."""
    counts: dict[str, int] = {}
    positions: dict[str, int] = {}
    for item in items:
        for position, tag in enumerate(dict.fromkeys(item.tags or [])):
            if not _names_content(tag, item=item):
                continue
            counts[tag] = counts.get(tag, 0) + 1
            positions[tag] = positions.get(tag, 0) + position
    ranked = sorted(counts, key=lambda tag: (-counts[tag], positions[tag] / counts[tag], tag))
    shared = _phrases_for_words([tag for tag in ranked if counts[tag] * 2 >= len(items)])[:3] or ranked[:1]
    if shared:
        words = ", ".join(shared)
        words = words[0].upper() + words[1:]
    else:
        projects = {item.project.name for item in items if item.project is not None}
        words = projects.pop() if len(projects) == 1 else gettext("Similar pictures")
    span = _date_span([item.taken_at or item.created_at for item in items])
    return f"{words[: ALBUM_NAME_MAX - len(span) - 3]} · {span}"


def album_suggestions_refresh(*, user: User) -> list[AlbumSuggestion]:
    """Cluster the user's items into proposed albums; returns the proposals now open.

    A proposal is keyed by its items, so one that was accepted or dismissed is never proposed
    again; open proposals that the clustering no longer yields are withdrawn.
    """
    ids, vectors = library_vectors(user=user)
    clusters = album_clusters(
        ids=ids,
        vectors=vectors,
        threshold=settings.LIBRARY_ALBUM_THRESHOLD,
        min_items=settings.LIBRARY_ALBUM_MIN_ITEMS,
    )
    keyed = {album_suggestion_key(cluster): cluster for cluster in clusters}
    closed = set(
        AlbumSuggestion.objects.filter(user=user)
        .exclude(status=AlbumSuggestion.Status.PROPOSED)
        .values_list("key", flat=True)
    )
    keyed = {key: cluster for key, cluster in keyed.items() if key not in closed}
    items = (
        LibraryItem.objects.select_related("project")
        .defer("embedding")
        .in_bulk([item_id for cluster in keyed.values() for item_id in cluster])
    )
    with transaction.atomic():
        withdrawn = AlbumSuggestion.objects.filter(user=user, status=AlbumSuggestion.Status.PROPOSED)
        withdrawn.exclude(key__in=list(keyed)).delete()
        # Largest first, so the list (in id order) starts with the biggest proposals.
        for key, cluster in sorted(keyed.items(), key=lambda pair: (-len(pair[1]), pair[1])):
            title = album_suggestion_title(items=[items[item_id] for item_id in cluster])
            suggestion, created = AlbumSuggestion.objects.get_or_create(user=user, key=key, defaults={"title": title})
            if created:
                suggestion.items.set(cluster)
            elif suggestion.status == AlbumSuggestion.Status.PROPOSED and suggestion.title != title:
                # The same items, described again since: the title follows their new tags.
                AlbumSuggestion.objects.filter(id=suggestion.id).update(title=title)
    return list(AlbumSuggestion.objects.filter(user=user, status=AlbumSuggestion.Status.PROPOSED).order_by("id"))


def album_suggestion_accept(*, suggestion: AlbumSuggestion, title: str | None = None) -> Album:
    """Make the proposal an album, under its proposed title or the one the user edited."""
    name = album_clean_name(suggestion.title if title is None else title)
    with transaction.atomic():
        claimed = AlbumSuggestion.objects.filter(id=suggestion.id, status=AlbumSuggestion.Status.PROPOSED).update(
            status=AlbumSuggestion.Status.ACCEPTED, title=name
        )
        if not claimed:
            raise AlbumError(gettext("This suggestion was already accepted or dismissed."))
        album = album_create(user=suggestion.user, name=name)
        item_ids = list(
            suggestion.items.filter(items_scope(user=suggestion.user, capability=Can.EDIT))
            .outside_trash()
            .values_list("id", flat=True)
        )
        if item_ids:
            album_add_items(album=album, item_ids=item_ids)
        AlbumSuggestion.objects.filter(id=suggestion.id).update(album=album)
    suggestion.refresh_from_db()
    return album


def album_suggestion_dismiss(*, suggestion: AlbumSuggestion) -> None:
    claimed = AlbumSuggestion.objects.filter(id=suggestion.id, status=AlbumSuggestion.Status.PROPOSED).update(
        status=AlbumSuggestion.Status.DISMISSED
    )
    if not claimed:
        raise AlbumError(gettext("This suggestion was already accepted or dismissed."))
    suggestion.refresh_from_db()
