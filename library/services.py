import logging
import re
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
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


def _enqueue(item_id: int) -> None:
    from library.tasks import analyse_item

    analyse_item.delay_on_commit(item_id)


def item_add_photo(*, photo_id: int) -> LibraryItem | None:
    """Put a processed photo in its owner's library and queue its analysis (again, if it is there)."""
    photo = Photo.objects.select_related("project").filter(id=photo_id, status=Photo.Status.READY).first()
    if photo is None:
        return None
    try:
        with transaction.atomic():
            item, created = LibraryItem.objects.get_or_create(
                photo=photo,
                defaults={
                    "user_id": photo.project.owner_id,
                    "kind": LibraryItem.Kind.PHOTO,
                    "project": photo.project,
                    "created_at": photo.created_at,
                },
            )
    except IntegrityError:
        item = LibraryItem.objects.get(photo=photo)
    # A known photo is analysed again: this runs when its description changes.
    _enqueue(item.id)
    return item


def item_add_generated(*, image_id: int) -> LibraryItem | None:
    image = GeneratedImage.objects.select_related("generation").filter(id=image_id).first()
    if image is None:
        return None
    try:
        with transaction.atomic():
            item, created = LibraryItem.objects.get_or_create(
                generated_image=image,
                defaults={
                    "user_id": image.generation.user_id,
                    "kind": LibraryItem.Kind.GENERATED,
                    "project_id": image.generation.project_id,
                    "created_at": image.created_at,
                },
            )
    except IntegrityError:
        return LibraryItem.objects.get(generated_image=image)
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
    name, context = _source(item)
    with default_storage.open(name, "rb") as stored:
        facts, image = analysis.image_facts(stored.read())
    context = Context(
        **{**context.__dict__, "colours": tuple(facts.colours), "orientation": _orientation(facts.width, facts.height)}
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
    """Re-queue analyses whose messages were lost (a worker restart): items pending for 10 minutes."""
    from datetime import timedelta

    from library.tasks import analyse_item

    stale = timezone.now() - timedelta(minutes=10)
    ids = list(
        LibraryItem.objects.filter(status=LibraryItem.Status.PENDING, created_at__lt=stale)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    for item_id in ids:
        analyse_item.delay(item_id)
    return len(ids)


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


def library_search(*, user: User, query: str, limit: int = 60, **filters) -> list[Hit]:
    """Items ranked by meaning, with a relevance score, a cut-off and the words that matched."""
    query = " ".join(query.split())[:300]
    if not query:
        return []
    vector = embeddings.embed([query])[0]
    user_index = index.index_for(user.id)
    # Filters apply after ranking: look deeper when they may drop many results.
    depth = user_index.index.ntotal if any(filters.values()) else limit
    hits = _hits(user, user_index.search(vector, max(depth, limit)), filters=filters)[:limit]
    return [Hit(item=hit.item, score=hit.score, matched=_matched_words(query, hit.item)) for hit in hits]


def library_similar(*, item: LibraryItem, limit: int = 24) -> list[Hit]:
    if item.embedding is None:
        return []
    user_index = index.index_for(item.user_id)
    ranked = user_index.search(embeddings.from_bytes(item.embedding), limit + 1)
    return _hits(item.user, ranked, filters={}, exclude=item.id)[:limit]


def library_vectors(*, user: User) -> tuple[list[int], np.ndarray]:
    rows = list(
        LibraryItem.objects.filter(user=user, embedding__isnull=False).order_by("id").values_list("id", "embedding")
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
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )


def share_record_view(*, share) -> None:
    from django.db.models import F

    from library.models import ShareLink

    ShareLink.objects.filter(id=share.id).update(views=F("views") + 1)
