import logging
import math
import re
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from core.exceptions import PermanentProviderError
from generation.models import GeneratedImage
from library import analysis, embeddings, index
from library.backends.base import AnalysisBackend, AnalysisFailed, Context
from library.models import LibraryItem
from projects.models import Photo

logger = logging.getLogger(__name__)

BACKENDS = {
    "local": "library.backends.local.LocalAnalysisBackend",
    "huggingface": "library.backends.huggingface.HuggingFaceAnalysisBackend",
}


def backend_for(name: str | None = None) -> AnalysisBackend:
    return import_string(BACKENDS[name] if name else settings.LIBRARY_ANALYSIS_BACKEND)()


# Adding items
# ------------------------------------------------------------------------------


def item_request_analysis(*, item_id: int) -> bool:
    """Queue the item's analysis unless a message for it is already waiting; True if one was sent.

    The waiting message reads the item when a worker starts it, so it covers every change made
    before then. One lost with the broker is re-sent once REDRIVE_AFTER_SECONDS have passed.
    """
    from library.tasks import analyse_item

    now = timezone.now()
    lost = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    claimed = (
        LibraryItem.objects.filter(id=item_id)
        .filter(Q(analysis_queued_at__isnull=True) | Q(analysis_queued_at__lt=lost))
        .update(analysis_queued_at=now)
    )
    if claimed:
        analyse_item.delay_on_commit(item_id)
    return bool(claimed)


def _enqueue(item_id: int) -> None:
    item_request_analysis(item_id=item_id)


def _item_for(*, source: dict, defaults: dict) -> tuple[LibraryItem, bool]:
    """The library item of a photo or image, created once even when two tasks race."""
    try:
        with transaction.atomic():
            return LibraryItem.objects.get_or_create(**source, defaults=defaults)
    except IntegrityError:
        return LibraryItem.objects.get(**source), False


def item_add_photo(*, photo_id: int) -> LibraryItem | None:
    """Put a processed photo in its owner's library and queue its analysis (again, if it is there)."""
    photo = Photo.objects.select_related("project").filter(id=photo_id, status=Photo.Status.READY).first()
    if photo is None:
        return None
    item, _ = _item_for(
        source={"photo": photo},
        defaults={
            "user_id": photo.project.owner_id,
            "kind": LibraryItem.Kind.PHOTO,
            "project": photo.project,
            "created_at": photo.created_at,
        },
    )
    # A known photo is analysed again: this runs when its description changes.
    _enqueue(item.id)
    return item


def item_add_generated(*, image_id: int) -> LibraryItem | None:
    image = GeneratedImage.objects.select_related("generation").filter(id=image_id).first()
    if image is None:
        return None
    item, created = _item_for(
        source={"generated_image": image},
        defaults={
            "user_id": image.generation.user_id,
            "kind": LibraryItem.Kind.GENERATED,
            "project_id": image.generation.project_id,
            "created_at": image.created_at,
        },
    )
    if created:
        _enqueue(item.id)
    return item


# Analysis
# ------------------------------------------------------------------------------


def _orientation(width: int, height: int) -> str:
    if width > height * 1.1:
        return "landscape"
    if height > width * 1.1:
        return "portrait"
    return "square"


def _source(item: LibraryItem) -> tuple[str, Context]:
    """The stored file to look at, and what we know of the item already."""
    if item.kind == LibraryItem.Kind.PHOTO:
        photo = item.photo
        return photo.original.name, Context(
            kind=item.kind,
            text=photo.description,
            project_name=photo.project.name,
            category=photo.project.category,
            trigger_word=photo.project.trigger_word,
            faces=photo.face_count,
        )
    generation = item.generated_image.generation
    return item.generated_image.file.name, Context(
        kind=item.kind,
        text=generation.prompt,
        project_name=generation.project.name if generation.project_id else "",
        category=generation.project.category if generation.project_id else "",
        trigger_word=generation.training_run.trigger_word if generation.training_run_id else "",
        faces=item.generated_image.face_count,
    )


def item_analyse(*, item_id: int) -> None:
    """Describe one item and embed its words. Safe to run again: it recomputes the same fields."""
    item = (
        LibraryItem.objects.select_related(
            "photo__project", "generated_image__generation__project", "generated_image__generation__training_run"
        )
        .filter(id=item_id)
        .first()
    )
    if item is None:
        return
    # Started: a change from now on needs a new message (this one may have read the old state).
    LibraryItem.objects.filter(id=item.id).update(analysis_queued_at=None)
    if item.photo_id is None and item.generated_image_id is None:
        return  # its source is being deleted (MySQL clears the column before the cascaded delete)
    name, context = _source(item)
    with default_storage.open(name, "rb") as stored:
        facts, image = analysis.image_facts(stored.read())
    faces = context.faces
    if faces is None:
        # Person projects count faces at upload; for everything else the library counts them.
        from projects import faces as face_detection

        faces = face_detection.describe_faces(image).count
    context = Context(
        **{
            **context.__dict__,
            "colours": tuple(facts.colours),
            "orientation": _orientation(facts.width, facts.height),
            "faces": faces,
        }
    )
    backend = backend_for()
    try:
        described = backend.analyse(image=image, context=context)
    except (AnalysisFailed, PermanentProviderError) as failure:
        # Asking again will not help: store the reason. Transient errors go up to the task's retries.
        LibraryItem.objects.filter(id=item.id).update(
            status=LibraryItem.Status.FAILED, error=str(failure)[:300], backend=backend.name
        )
        return
    fields = {
        "status": LibraryItem.Status.DONE,
        "error": "",
        "backend": backend.name,
        "caption": described.caption[:300],
        "description": described.description,
        "aesthetic": described.aesthetic,
        "tags": described.tags,
        "colours": facts.colours,
        "camera": facts.camera,
        "taken_at": facts.taken_at,
        "phash": facts.phash,
        "sha256": facts.sha256,
        "sharpness": facts.sharpness,
        "width": facts.width,
        "height": facts.height,
        "face_count": context.faces,
        "analysed_at": timezone.now(),
    }
    for field, value in fields.items():
        setattr(item, field, value)
    fields["embedding"] = embeddings.to_bytes(embeddings.embed([item.search_text()])[0])
    fields["embedded_at"] = timezone.now()
    LibraryItem.objects.filter(id=item.id).update(**fields)
    if item.kind == LibraryItem.Kind.PHOTO and backend.name != "local":
        _offer_caption(photo=item.photo, caption=described.caption)


def _offer_caption(*, photo: Photo, caption: str) -> None:
    """A model's caption is offered as the training photo's description, with the project's trigger
    word in it; the user's own description is left alone (they accept, edit or ignore it)."""
    from training.dataset import caption_for

    caption = " ".join(caption.split())
    if not caption:
        return
    trigger_word = photo.project.trigger_word
    if trigger_word not in caption and caption[:1].isupper() and not caption[1:2].isupper():
        caption = caption[0].lower() + caption[1:]  # it follows "a photo of <trigger word>, "
    offered = caption_for(description=caption, trigger_word=trigger_word)
    limit = Photo._meta.get_field("description").max_length
    Photo.objects.filter(id=photo.id).update(ai_caption=offered[:limit])


def library_reconcile(*, batch_size: int = 200) -> int:
    """Re-drive what lost messages left behind (a killed worker, a restarted broker): photos and
    images that never got their library item, and items still waiting for their analysis."""
    stale = timezone.now() - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    photo_ids = Photo.objects.filter(
        status=Photo.Status.READY, library_item__isnull=True, processed_at__lt=stale
    ).values_list("id", flat=True)[:batch_size]
    image_ids = GeneratedImage.objects.filter(library_item__isnull=True, created_at__lt=stale).values_list(
        "id", flat=True
    )[:batch_size]
    # Pending items are read first: the items made below queue their own analysis.
    ids = list(
        LibraryItem.objects.filter(status=LibraryItem.Status.PENDING, created_at__lt=stale)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    for photo_id in photo_ids:
        item_add_photo(photo_id=photo_id)
    for image_id in image_ids:
        item_add_generated(image_id=image_id)
    for item_id in ids:
        # Skipped while a message for it is waiting (and not yet presumed lost).
        item_request_analysis(item_id=item_id)
    return len(photo_ids) + len(image_ids) + len(ids)


def item_analyse_failed(*, item_id: int, message: str) -> None:
    LibraryItem.objects.filter(id=item_id).exclude(status=LibraryItem.Status.DONE).update(
        status=LibraryItem.Status.FAILED, error=message[:300]
    )


# Search and similar
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    item: LibraryItem
    score: float
    matched: list[str]


def _matched_words(query: str, item: LibraryItem) -> list[str]:
    """The query's words found in the item's caption, description or tags ("why it matched")."""
    text = item.search_text().lower()
    found = []
    for word in analysis.keywords(query, limit=20):
        stem = word[:-1] if word.endswith("s") and len(word) > 4 else word
        if re.search(rf"\b{re.escape(stem)}", text):
            found.append(word)
    return found


def _hits(user: User, ranked: list[tuple[int, float]], *, filters: dict, exclude: int | None = None) -> list[Hit]:
    from library import selectors

    minimum = settings.LIBRARY_SEARCH_MIN_SCORE
    scores = {item_id: score for item_id, score in ranked if score >= minimum and item_id != exclude}
    items = selectors.item_list_for_user(user=user, **filters).filter(id__in=list(scores))
    return sorted(
        (Hit(item=item, score=round(scores[item.id], 3), matched=[]) for item in items),
        key=lambda hit: (-hit.score, -hit.item.id),
    )


def _ranked_hits(
    user: User, user_index, vector, *, depth: int, limit: int, filters: dict, exclude: int | None = None
) -> list[Hit]:
    """The best `limit` hits. Filters and the trash apply after ranking, so when they dropped
    candidates that scored high enough and the index holds more, it is searched to the end."""
    minimum = settings.LIBRARY_SEARCH_MIN_SCORE
    ranked = user_index.search(vector, depth)
    hits = _hits(user, ranked, filters=filters, exclude=exclude)
    candidates = sum(1 for item_id, score in ranked if score >= minimum and item_id != exclude)
    dropped = candidates > len(hits)
    if dropped and len(hits) < limit and user_index.index.ntotal > len(ranked):
        hits = _hits(user, user_index.search(vector, user_index.index.ntotal), filters=filters, exclude=exclude)
    return hits[:limit]


def library_search(*, user: User, query: str, limit: int = 60, **filters) -> list[Hit]:
    """Items ranked by meaning, with a relevance score, a cut-off and the words that matched."""
    query = " ".join(query.split())[:300]
    if not query:
        return []
    vector = embeddings.embed([query])[0]
    user_index = index.index_for(user.id)
    # Filters apply after ranking: look deeper when they may drop many results.
    depth = user_index.index.ntotal if any(filters.values()) else limit
    hits = _ranked_hits(user, user_index, vector, depth=max(depth, limit), limit=limit, filters=filters)
    return [Hit(item=hit.item, score=hit.score, matched=_matched_words(query, hit.item)) for hit in hits]


def library_similar(*, item: LibraryItem, limit: int = 24) -> list[Hit]:
    if item.embedding is None:
        return []
    user_index = index.index_for(item.user_id)
    vector = embeddings.from_bytes(item.embedding)
    return _ranked_hits(item.user, user_index, vector, depth=limit + 1, limit=limit, filters={}, exclude=item.id)


def library_vectors(*, user: User) -> tuple[list[int], np.ndarray]:
    rows = list(
        LibraryItem.objects.filter(user=user, embedding__isnull=False)
        .outside_trash()
        .order_by("id")
        .values_list("id", "embedding")
    )
    if not rows:
        return [], np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
    return [row[0] for row in rows], np.stack([embeddings.from_bytes(row[1]) for row in rows])


# Sharing
# ------------------------------------------------------------------------------

SHARE_MAX_DAYS = 365


class ShareNotAllowed(Exception):
    """Why a share link cannot be made or changed; the message is for the user."""


def share_create(
    *,
    user: User,
    generated_image: GeneratedImage | None = None,
    album=None,
    expires_in_days: int | None = None,
):
    """A new read-only link to one of the user's generated images or albums; it may expire."""
    from datetime import timedelta

    from library.models import ShareLink

    if (generated_image is None) == (album is None):
        raise ShareNotAllowed("Share one image or one album.")
    if generated_image is not None and generated_image.generation.user_id != user.id:
        raise ShareNotAllowed("You can only share your own images.")
    if album is not None and album.user_id != user.id:
        raise ShareNotAllowed("You can only share your own albums.")
    expires_at = None
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
            raise ShareNotAllowed("The expiry is a number of days.")
        if not 1 <= expires_in_days <= SHARE_MAX_DAYS:
            raise ShareNotAllowed(f"A link can expire in 1 to {SHARE_MAX_DAYS} days, or never.")
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    return ShareLink.objects.create(user=user, generated_image=generated_image, album=album, expires_at=expires_at)


def share_revoke(*, user: User, share):
    """Turn the link off for good. Revoking it again changes nothing."""
    from library.models import ShareLink

    if share.user_id != user.id:
        raise ShareNotAllowed("You can only revoke your own links.")
    if share.revoked_at is None:
        ShareLink.objects.filter(id=share.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
        share.refresh_from_db(fields=["revoked_at"])
    return share


def share_resolve(*, token: str):
    """The live link with this token, or None when it is unknown, revoked or expired."""
    from django.db.models import Q

    from library.models import ShareLink

    if not token or len(token) > 64:
        return None
    return (
        ShareLink.objects.select_related("generated_image__generation", "album")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        # A link to an image in the trash shows nothing until the image is restored.
        .filter(generated_image__trashed_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )


def share_record_view(*, share) -> None:
    from django.db.models import F

    from library.models import ShareLink

    ShareLink.objects.filter(id=share.id).update(views=F("views") + 1)


# Albums
# ------------------------------------------------------------------------------
# Imports stay inside the functions below so this section merges cleanly with the rest of the file.


class AlbumError(Exception):
    """An album request we refuse, with a message for the user."""


ALBUM_NAME_MAX = 120
# Ids accepted in one add or remove; a bigger selection is refused rather than half done.
ALBUM_ITEMS_PER_CHANGE = 500


def _album_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AlbumError("Give the album a name.")
    if len(name) > ALBUM_NAME_MAX:
        raise AlbumError(f"Album names are at most {ALBUM_NAME_MAX} characters.")
    return name


def _album_item_ids(item_ids) -> list[int]:
    try:
        ids = sorted({int(item_id) for item_id in item_ids})
    except (TypeError, ValueError) as error:
        raise AlbumError("Items are given by their numeric ids.") from error
    if len(ids) > ALBUM_ITEMS_PER_CHANGE:
        raise AlbumError(f"Pick at most {ALBUM_ITEMS_PER_CHANGE} items at a time.")
    return ids


def album_create(*, user: User, name: str, item_ids=()):
    from library.models import Album

    name = _album_name(name)
    with transaction.atomic():
        album = Album.objects.create(user=user, name=name)
        if item_ids:
            album_add_items(album=album, item_ids=item_ids)
    return album


def album_rename(*, album, name: str):
    album.name = _album_name(name)
    album.save(update_fields=["name"])
    return album


def album_add_items(*, album, item_ids) -> int:
    """Add the owner's own items; any other id refuses the whole change. Returns how many were new."""
    from library.models import AlbumItem

    ids = _album_item_ids(item_ids)
    if not ids:
        raise AlbumError("Pick at least one item to add.")
    owned = set(
        LibraryItem.objects.filter(user_id=album.user_id, id__in=ids).outside_trash().values_list("id", flat=True)
    )
    if owned != set(ids):
        raise AlbumError("Only items in your own library can be added to your albums.")
    with transaction.atomic():
        present = set(AlbumItem.objects.filter(album=album, item_id__in=ids).values_list("item_id", flat=True))
        # Adding an item twice is a no-op, also when two requests race.
        AlbumItem.objects.bulk_create(
            [AlbumItem(album=album, item_id=item_id) for item_id in ids if item_id not in present],
            ignore_conflicts=True,
        )
    return len(set(ids) - present)


def album_remove_items(*, album, item_ids) -> int:
    """Take items out of the album (they stay in the library). Returns how many were removed."""
    from library.models import Album, AlbumItem

    ids = _album_item_ids(item_ids)
    with transaction.atomic():
        removed = AlbumItem.objects.filter(album=album, item_id__in=ids).delete()[0]
        if album.cover_id in ids:
            album.cover = None
            Album.objects.filter(id=album.id).update(cover=None)
    return removed


def album_set_cover(*, album, item_id: int | None):
    """Use one of the album's items as its cover; None goes back to the first item added."""
    from library.models import AlbumItem

    if item_id is not None and not AlbumItem.objects.filter(album=album, item_id=item_id).exists():
        raise AlbumError("Pick one of this album's items as its cover.")
    album.cover_id = item_id
    album.save(update_fields=["cover"])
    return album


def album_delete(*, album) -> None:
    """Delete the album only: its items stay in the library."""
    album.delete()


# Suggested albums
# ------------------------------------------------------------------------------

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


def _neighbours(vectors: np.ndarray, threshold: float, block: int = 1024) -> list[np.ndarray]:
    """For each row, the other rows at least `threshold` similar (cosine: the rows are unit vectors)."""
    found = []
    for start in range(0, len(vectors), block):
        similar = vectors[start : start + block] @ vectors.T >= threshold
        for offset, row in enumerate(similar):
            row[start + offset] = False
            found.append(np.flatnonzero(row))
    return found


def album_clusters(*, ids: list[int], vectors: np.ndarray, threshold: float, min_items: int) -> list[list[int]]:
    """Groups of item ids, the same for the same input.

    Greedy: the item with the most unclaimed neighbours (the lowest id on a tie) seeds a cluster
    of itself and those neighbours; repeat until no seed has enough. Every member is at least
    `threshold` similar to its seed, so clusters do not chain across unrelated items.
    """
    if len(ids) < max(min_items, 2):
        return []
    order = np.argsort(np.asarray(ids), kind="stable")
    ids = [ids[position] for position in order]
    neighbours = _neighbours(np.asarray(vectors, dtype=np.float32)[order], threshold)
    degree = np.array([len(found) for found in neighbours])
    free = np.ones(len(ids), dtype=bool)
    clusters = []
    while True:
        candidates = np.where(free, degree, -1)
        seed = int(np.argmax(candidates))  # the first, so the lowest id, of the best connected
        if candidates[seed] + 1 < min_items:
            return clusters
        members = [seed, *(int(other) for other in neighbours[seed] if free[other])]
        for member in members:
            free[member] = False
            degree[neighbours[member]] -= 1
        clusters.append(sorted(ids[member] for member in members))


def album_suggestion_key(item_ids) -> str:
    import hashlib

    return hashlib.sha256(",".join(str(item_id) for item_id in sorted(item_ids)).encode()).hexdigest()


def _date_span(moments: list) -> str:
    from django.utils.dateformat import format as date_format

    first, last = (timezone.localtime(moment) for moment in (min(moments), max(moments)))
    if first.date() == last.date():
        return date_format(first, "j M Y")
    if (first.year, first.month) == (last.year, last.month):
        return date_format(first, "M Y")
    if first.year == last.year:
        return f"{date_format(first, 'M')}–{date_format(last, 'M Y')}"
    return f"{date_format(first, 'M Y')} – {date_format(last, 'M Y')}"


def album_suggestion_title(*, items: list[LibraryItem]) -> str:
    """The words at least half of the items share (earlier tags first on a tie), and their dates."""
    counts: dict[str, int] = {}
    positions: dict[str, int] = {}
    for item in items:
        for position, tag in enumerate(dict.fromkeys(item.tags or [])):
            if tag.lower() in _GENERIC_TAGS:
                continue
            counts[tag] = counts.get(tag, 0) + 1
            positions[tag] = positions.get(tag, 0) + position
    ranked = sorted(counts, key=lambda tag: (-counts[tag], positions[tag] / counts[tag], tag))
    shared = [tag for tag in ranked if counts[tag] * 2 >= len(items)][:3] or ranked[:1]
    if shared:
        words = ", ".join(shared)
        words = words[0].upper() + words[1:]
    else:
        projects = {item.project.name for item in items if item.project_id}
        words = projects.pop() if len(projects) == 1 else "Similar pictures"
    span = _date_span([item.taken_at or item.created_at for item in items])
    return f"{words[: ALBUM_NAME_MAX - len(span) - 3]} · {span}"


def album_suggestions_refresh(*, user: User) -> list:
    """Cluster the user's items into proposed albums; returns the proposals now open.

    A proposal is keyed by its items, so one that was accepted or dismissed is never proposed
    again; open proposals that the clustering no longer yields are withdrawn.
    """
    from library.models import AlbumSuggestion

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


def album_suggestion_accept(*, suggestion, title: str | None = None):
    """Make the proposal an album, under its proposed title or the one the user edited."""
    from library.models import AlbumSuggestion

    name = _album_name(suggestion.title if title is None else title)
    with transaction.atomic():
        claimed = AlbumSuggestion.objects.filter(id=suggestion.id, status=AlbumSuggestion.Status.PROPOSED).update(
            status=AlbumSuggestion.Status.ACCEPTED, title=name
        )
        if not claimed:
            raise AlbumError("This suggestion was already accepted or dismissed.")
        album = album_create(user=suggestion.user, name=name)
        item_ids = list(
            suggestion.items.filter(user_id=suggestion.user_id).outside_trash().values_list("id", flat=True)
        )
        if item_ids:
            album_add_items(album=album, item_ids=item_ids)
        AlbumSuggestion.objects.filter(id=suggestion.id).update(album=album)
    suggestion.refresh_from_db()
    return album


def album_suggestion_dismiss(*, suggestion) -> None:
    from library.models import AlbumSuggestion

    claimed = AlbumSuggestion.objects.filter(id=suggestion.id, status=AlbumSuggestion.Status.PROPOSED).update(
        status=AlbumSuggestion.Status.DISMISSED
    )
    if not claimed:
        raise AlbumError("This suggestion was already accepted or dismissed.")
    suggestion.refresh_from_db()


# Duplicates
# ------------------------------------------------------------------------------


class DuplicateError(Exception):
    """A keep-the-best request we refuse, with a message for the user."""


@dataclass(frozen=True)
class DuplicateGroup:
    items: list[LibraryItem]  # best first (see _best_first): the largest, least compressed, sharpest
    # Near groups show each distinct file once; these are the byte-identical copies of each.
    copies: dict[int, list[LibraryItem]]

    @property
    def best(self) -> LibraryItem:
        return self.items[0]


@dataclass(frozen=True)
class Duplicates:
    exact: list[DuplicateGroup]  # byte-identical files
    near: list[DuplicateGroup]  # different files that look the same (perceptual hash)


def item_source_size(item: LibraryItem) -> tuple[int, int]:
    """The stored file's own size (the item's is of a copy at most 1024 px)."""
    source = item.photo if item.kind == LibraryItem.Kind.PHOTO else item.generated_image
    return (source.width, source.height) if source and source.width else (item.width, item.height)


# Pixel counts within this factor of each other are one size class: resizing, cropping a few
# pixels or re-saving changes the count a little, a smaller copy a lot (a 4K frame has 2.25x
# the pixels of a 1440p one, 4x those of a 1080p one).
SIZE_CLASS_STEP = 1.25
# Bytes per pixel mean more detail kept only between copies compressed alike: WebP and HEIC keep
# about as much as JPEG in fewer bytes. PNG is lossless, so no lossy copy of the same size beats it.
_FORMAT_EFFICIENCY = {"jpeg": 1.0, "jpg": 1.0, "webp": 1.3, "heif": 1.5, "heic": 1.5}
QUALITY_CLASS_STEP = 1.5


def _step_class(value: float, step: float) -> int:
    return math.floor(math.log(value, step)) if value > 0 else -(10**6)


def _best_first(item: LibraryItem) -> tuple:
    """The largest, then the least compressed, then the sharpest, then the oldest.

    Resolution first: a downscaled copy loses detail for good, and it even measures sharper
    (sharpness is measured on a copy at most ANALYSIS_LONG_SIDE px long, where a smaller image
    has fewer, crisper pixels per edge). So sharpness only decides between copies of one size class
    whose files are of one quality class (bytes per pixel, weighed by format; lossless first).
    """
    width, height = item_source_size(item)
    pixels = width * height
    source = item.source
    file_format = (getattr(source, "format", "") or "").lower()
    size_bytes = getattr(source, "bytes", 0) or 0
    if file_format == "png":
        quality = 10**6  # lossless
    else:
        per_pixel = size_bytes / pixels * _FORMAT_EFFICIENCY.get(file_format, 1.0) if pixels else 0.0
        quality = _step_class(per_pixel, QUALITY_CLASS_STEP)
    return (
        -_step_class(pixels, SIZE_CLASS_STEP),
        -quality,
        -(item.sharpness or 0.0),
        -pixels,
        item.id,
    )


def _near_pairs(phashes: list[str], distance: int) -> list[tuple[int, int]]:
    """Index pairs whose perceptual hashes differ in at most `distance` bits."""
    from projects.imaging import phash_distance

    values = np.array([int(value, 16) for value in phashes], dtype=np.uint64)
    pairs = []
    for row in range(len(values) - 1):
        differing = np.bitwise_count(values[row + 1 :] ^ values[row])
        for offset in np.flatnonzero(differing <= distance):
            other = row + 1 + int(offset)
            # The vectorised count only short-lists; the projects' own measure decides.
            if phash_distance(phashes[row], phashes[other]) <= distance:
                pairs.append((row, other))
    return pairs


def duplicate_groups(*, user: User) -> Duplicates:
    """Exact and near duplicates among the user's analysed items, as separate lists of groups.

    Exact: the same sha256. Near: different files at most PHOTO_NEAR_DUPLICATE_DISTANCE bits of
    perceptual hash apart, each file shown once (by its best copy), so the two lists never offer
    the same choice twice.
    """
    from library import selectors

    items = sorted(
        selectors.item_list_for_user(user=user).exclude(sha256="").exclude(phash=""), key=lambda item: item.id
    )
    by_file: dict[str, list[LibraryItem]] = {}
    for item in items:
        by_file.setdefault(item.sha256, []).append(item)
    exact, files, copies = [], [], {}
    for same in by_file.values():
        same.sort(key=_best_first)
        files.append(same[0])
        if len(same) > 1:
            exact.append(DuplicateGroup(items=same, copies={}))
            copies[same[0].id] = same[1:]
    parent = list(range(len(files)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second in _near_pairs([item.phash for item in files], settings.PHOTO_NEAR_DUPLICATE_DISTANCE):
        first, second = root(first), root(second)
        parent[max(first, second)] = min(first, second)
    components: dict[int, list[LibraryItem]] = {}
    for position, item in enumerate(files):
        components.setdefault(root(position), []).append(item)
    near = [
        DuplicateGroup(
            items=sorted(group, key=_best_first),
            copies={item.id: copies[item.id] for item in group if item.id in copies},
        )
        for group in components.values()
        if len(group) > 1
    ]

    def newest_first(group: DuplicateGroup) -> int:
        return -max(item.id for item in group.items)

    return Duplicates(exact=sorted(exact, key=newest_first), near=sorted(near, key=newest_first))


def _trash_source(item: LibraryItem) -> None:
    """Move the photo or generated image to the trash; its library item leaves the library with it."""
    from generation import services as generation_services
    from projects import services as project_services

    if item.kind == LibraryItem.Kind.PHOTO:
        project_services.photo_trash(photo=item.photo)
    else:
        generation_services.image_trash(image=item.generated_image)


def duplicates_keep_best(*, user: User, item_ids) -> list[int]:
    """Keep the best of a group of duplicates and move the others' photos or images to the trash.

    The ids must still be duplicates of one another (all in one current group); in a near group
    the byte-identical copies of each trashed file go too. Returns the trashed items' ids.
    """
    try:
        ids = {int(item_id) for item_id in item_ids}
    except (TypeError, ValueError) as error:
        raise DuplicateError("Items are given by their numeric ids.") from error
    if len(ids) < 2:
        raise DuplicateError("Pick a group of at least two duplicates.")
    found = duplicate_groups(user=user)
    for group in [*found.exact, *found.near]:
        members = {item.id: item for item in group.items}
        if ids <= set(members):
            chosen = sorted((members[item_id] for item_id in ids), key=_best_first)
            doomed = [copy for item in chosen[1:] for copy in [item, *group.copies.get(item.id, [])]]
            with transaction.atomic():
                for item in doomed:
                    _trash_source(item)
            return [item.id for item in doomed]
    raise DuplicateError("These are no longer duplicates of one another; look at the list again.")


# Trash
# ------------------------------------------------------------------------------
# Photos and generated images are trashed, restored and purged by their own apps; this is the one
# place that offers both, for the trash page and the API.


class TrashError(Exception):
    """A restore or deletion we refuse, with a message for the user."""


def trash_restore(*, source) -> None:
    """Take a photo or generated image out of the trash (a photo only while its project has room)."""
    from generation import services as generation_services
    from projects import services as project_services

    try:
        if isinstance(source, Photo):
            project_services.photo_restore(photo=source)
        else:
            generation_services.image_restore(image=source)
    except (project_services.ProjectError, generation_services.ImageGone) as refusal:
        raise TrashError(str(refusal)) from refusal


def trash_delete_permanently(*, source) -> None:
    """Delete a photo or generated image in the trash, and its stored files, for good now."""
    from generation import services as generation_services
    from projects import services as project_services

    if isinstance(source, Photo):
        try:
            project_services.photo_delete(photo=source)
        except Photo.DoesNotExist:
            pass  # gone already (purged, or a second click): what was asked for
    else:
        generation_services.image_delete(image=source)


def trash_empty(*, user: User, batch_size: int = 200) -> int:
    """Delete everything in the user's trash, and the stored files, for good. Returns how many went."""
    from generation import services as generation_services

    deleted = 0
    while True:
        photos = list(Photo.objects.filter(project__owner=user, trashed_at__isnull=False).order_by("id")[:batch_size])
        for photo in photos:
            trash_delete_permanently(source=photo)
        image_ids = list(
            GeneratedImage.objects.filter(generation__user=user, trashed_at__isnull=False).values_list("id", flat=True)[
                :batch_size
            ]
        )
        deleted += len(photos) + generation_services.images_delete(user=user, image_ids=image_ids, trashed=True)
        if len(photos) < batch_size and len(image_ids) < batch_size:
            break
    return deleted
