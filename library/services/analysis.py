"""Describing an item (by the configured analysis backend) and embedding its words for search,
and re-embedding the items another model embedded (after an upgrade or a change of backend)."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from core.exceptions import PermanentProviderError, ProviderError, TransientProviderError, UnexpectedStepError
from core.leases import FREE, lease_claim, new_attempt
from library import analysis, embeddings
from library.backends.base import AnalysisBackend, AnalysisFailed, Context
from library.models import LibraryItem, ReembedProgress
from library.tasks import analyse_item
from projects import faces as face_detection
from projects import services as project_services
from projects.models import Photo
from training.dataset import caption_for

logger = logging.getLogger(__name__)

BACKENDS = {
    "local": "library.backends.local.LocalAnalysisBackend",
    "huggingface": "library.backends.huggingface.HuggingFaceAnalysisBackend",
}


def backend_for(name: str | None = None) -> AnalysisBackend:
    return import_string(BACKENDS[name] if name else settings.LIBRARY_ANALYSIS_BACKEND)()


def _orientation(width: int, height: int) -> str:
    if width > height * 1.1:
        return "landscape"
    if height > width * 1.1:
        return "portrait"
    return "square"


def _source(item: LibraryItem) -> tuple[str, Context] | None:
    """The stored file to look at, and what we know of the item already; None once its source is gone."""
    photo, image = item.photo, item.generated_image
    if item.kind == LibraryItem.Kind.PHOTO and photo is not None:
        return photo.original.name, Context(
            kind=item.kind,
            text=photo.description,
            project_name=photo.project.name,
            category=photo.project.category,
            trigger_word=photo.project.trigger_word,
            faces=photo.face_count,
        )
    if image is None:
        return None
    generation = image.generation
    project, run = generation.project, generation.training_run
    return image.file.name, Context(
        kind=item.kind,
        text=generation.prompt,
        project_name=project.name if project else "",
        category=project.category if project else "",
        trigger_word=run.trigger_word if run else "",
        faces=image.face_count,
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
    found = _source(item)
    if found is None:
        return  # its source is being deleted (MySQL clears the column before the cascaded delete)
    name, context = found
    with default_storage.open(name, "rb") as stored:
        facts, image = analysis.image_facts(stored.read())
    faces = context.faces
    if faces is None:
        # Person projects count faces at upload; for everything else the library counts them.
        faces = face_detection.describe_faces(image).count
    context = Context(
        **{
            **context.__dict__,
            "colours": tuple(facts.colours),
            "orientation": _orientation(facts.width, facts.height),
            "faces": faces,
            "camera": facts.camera,
            "taken_at": facts.taken_at,
        }
    )
    backend = backend_for()
    try:
        # The description is data in English (what FLUX and search read), whatever language the
        # request that queued it spoke: in-process (eager) runs inherit the request's.
        with translation.override(None):
            described = backend.analyse(image=image, context=context)
    except (AnalysisFailed, PermanentProviderError) as failure:
        # Asking again will not help: store the reason. Transient errors go up to the task's retries.
        LibraryItem.objects.filter(id=item.id).update(
            status=LibraryItem.Status.FAILED, error=str(failure)[:300], backend=backend.name
        )
        return
    fields: dict[str, object] = {
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
    try:
        fields["embedding"] = embeddings.to_bytes(embeddings.embed_documents([_document(item)])[0])
        fields["embedding_model"] = embeddings.model_id()
        fields["embedded_at"] = timezone.now()
    except ProviderError as error:
        # An embedding provider's failure (the Hugging Face backend) does not undo a description
        # that may have been paid for: the item is stored stale, out of search, and the
        # background re-embed gives it its vector once the provider answers again.
        logger.warning("item %s: analysed, its embedding left to library.reembed_stale: %s", item.id, error)
        fields["embedding_model"] = ""
        ReembedProgress.objects.update(done_at=None)
    LibraryItem.objects.filter(id=item.id).update(**fields)
    if item.kind == LibraryItem.Kind.PHOTO and item.photo is not None and backend.name != "local":
        _offer_caption(photo=item.photo, caption=described.caption)


def _offer_caption(*, photo: Photo, caption: str) -> None:
    """A model's caption is offered as the training photo's description, with the project's trigger
    word in it; the user's own description is left alone (they accept, edit or ignore it)."""
    caption = " ".join(caption.split())
    if not caption:
        return
    trigger_word = photo.project.trigger_word
    if trigger_word not in caption and caption[:1].isupper() and not caption[1:2].isupper():
        caption = caption[0].lower() + caption[1:]  # it follows "a photo of <trigger word>, "
    offered = caption_for(description=caption, trigger_word=trigger_word)
    project_services.photo_set_ai_caption(photo_id=photo.id, caption=offered)


def item_analyse_failed(*, item_id: int, message: str) -> None:
    LibraryItem.objects.filter(id=item_id).exclude(status=LibraryItem.Status.DONE).update(
        status=LibraryItem.Status.FAILED, error=message[:300]
    )


def _analysed(user_id: int | None) -> QuerySet[LibraryItem]:
    items = LibraryItem.objects.filter(status=LibraryItem.Status.DONE)
    return items.filter(user_id=user_id) if user_id else items


# Re-embedding
# ------------------------------------------------------------------------------
# An item is stale when it has no vector of the configured model (LibraryItem.embedding_model).
# Stale items are left out of the index and of "Similar" (library/index.py, library/selectors),
# so search never compares vectors of two models; until they are re-embedded it finds only the
# items that are not. One run at a time works, holding the lease on the ReembedProgress row.

REEMBED_BATCH = 64
# A run renews its lease each batch; one whose process died frees it after this long.
REEMBED_LEASE_SECONDS = 300
# A finished re-embed looks again this often, in case an item went stale without saying so.
REEMBED_RECHECK = timedelta(hours=1)


class ReembedBusy(Exception):
    """Another run (beat's, or another library_index) holds the re-embed lease."""


def _stale(items: QuerySet[LibraryItem]) -> QuerySet[LibraryItem]:
    return items.filter(status=LibraryItem.Status.DONE).filter(
        Q(embedding__isnull=True) | ~Q(embedding_model=embeddings.model_id())
    )


def _progress() -> ReembedProgress:
    """The one progress row, made for the configured model (a new model starts a new pass)."""
    model = embeddings.model_id()
    try:
        with transaction.atomic():
            progress, _ = ReembedProgress.objects.get_or_create(id=1, defaults={"model": model})
    except IntegrityError:  # made by a run that started at the same time
        progress = ReembedProgress.objects.get(id=1)
    if progress.model != model:
        ReembedProgress.objects.filter(id=1, model=progress.model).update(
            model=model, after_id=0, embedded=0, done_at=None
        )
        progress = ReembedProgress.objects.get(id=1)
    return progress


def _claim(holder: str) -> bool:
    return lease_claim(ReembedProgress.objects.filter(id=1), holder=holder, seconds=REEMBED_LEASE_SECONDS)


def _release(holder: str) -> None:
    ReembedProgress.objects.filter(id=1, lease_holder=holder).update(**FREE)


def _advance(holder: str, *, after_id: int | None, embedded: int) -> None:
    """Record a batch and renew the lease (a run that lost its lease records nothing)."""
    fields: dict[str, object] = {
        "embedded": F("embedded") + embedded,
        "lease_until": timezone.now() + timedelta(seconds=REEMBED_LEASE_SECONDS),
    }
    if after_id is not None:
        fields["after_id"] = after_id
    ReembedProgress.objects.filter(id=1, lease_holder=holder).update(**fields)


def library_reembed_stale(*, limit: int) -> int:
    """One bounded step of the background re-embed (the beat task): up to `limit` stale items, in
    id order from where the last step stopped; returns how many. A no-op while another run holds
    the lease, and once a pass found nothing stale (until REEMBED_RECHECK or a new model). A
    provider's error ends the step with what it did; the next one goes on from there."""
    progress = _progress()
    if progress.done_at and progress.done_at > timezone.now() - REEMBED_RECHECK:
        return 0
    holder = new_attempt()
    if not _claim(holder):
        return 0
    embedded = 0
    try:
        for written in _stale_batches(holder, limit=limit):
            embedded += written
    except ProviderError as error:
        log = logger.error if error.permanent else logger.warning
        log("re-embedding stopped after %s items, the next run goes on: %s", embedded, error)
    finally:
        _release(holder)
    if embedded:
        logger.info("re-embedded %s items with %s", embedded, embeddings.model_id())
    return embedded


def _stale_batches(holder: str, *, limit: int) -> Iterator[int]:
    """Embed stale items a batch at a time from the stored position, yielding how many each stored."""
    restarted = False
    embedded = 0
    while embedded < limit:
        progress = ReembedProgress.objects.get(id=1)
        batch = list(
            _stale(LibraryItem.objects.filter(id__gt=progress.after_id))
            .order_by("id")
            .defer("embedding")[: min(REEMBED_BATCH, limit - embedded)]
        )
        if batch:
            written = _embed(batch)
            _advance(holder, after_id=batch[-1].id, embedded=written)
            embedded += len(batch)
            yield written
            continue
        if progress.after_id and _stale(LibraryItem.objects.all()).exists():
            if restarted:
                return  # what is left is the next run's
            # Items this pass had passed went stale since (an embedding that failed): again from the start.
            ReembedProgress.objects.filter(id=1, lease_holder=holder).update(after_id=0)
            restarted = True
            continue
        ReembedProgress.objects.filter(id=1, lease_holder=holder).update(after_id=0, done_at=timezone.now())
        return


@dataclass(frozen=True)
class Reembedded:
    embedded: int  # items given a new vector
    stale: int  # analysed items still without a vector of the configured model


def library_reembed(
    *,
    user_id: int | None = None,
    everything: bool = False,
    batch_size: int = REEMBED_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> Reembedded:
    """Re-embed now, in batches, the stale analysed items (all users', or one's), or `everything`
    analysed. Holds the re-embed lease meanwhile, so the beat task waits (ReembedBusy if another
    run holds it). Safe to interrupt: each batch is stored as it is done, and a run again does the
    stale ones left (`everything` starts again from the first item). `on_batch` gets the count so far."""
    _progress()
    holder = new_attempt()
    if not _claim(holder):
        raise ReembedBusy("Another re-embed is running (library.reembed_stale or library_index).")
    try:
        items = _analysed(user_id)
        if not everything:
            items = _stale(items)
        embedded, after_id = 0, 0
        while batch := list(items.filter(id__gt=after_id).order_by("id").defer("embedding")[:batch_size]):
            written = _embed(batch)
            embedded += written
            after_id = batch[-1].id
            _advance(holder, after_id=None, embedded=written)
            if on_batch is not None:
                on_batch(embedded)
        stale = _stale(_analysed(user_id)).count()
        if user_id is None and not stale:
            ReembedProgress.objects.filter(id=1).update(after_id=0, done_at=timezone.now())
        return Reembedded(embedded=embedded, stale=stale)
    finally:
        _release(holder)


def _document(item: LibraryItem) -> embeddings.Document:
    return embeddings.Document(text=item.search_text(), phrases=item.search_phrases())


def _embed(batch: list[LibraryItem]) -> int:
    """Embed the batch in one model call and store each vector; returns how many were stored."""
    if not batch:
        return 0
    vectors = embeddings.embed_documents([_document(item) for item in batch])
    model = embeddings.model_id()
    now = timezone.now()
    stored = 0
    # One commit per batch, after the model call (no transaction is open while it runs).
    with transaction.atomic():
        for item, vector in zip(batch, vectors, strict=True):
            # Only over the text it was made from: an analysis that ran meanwhile stored its own vector.
            stored += LibraryItem.objects.filter(id=item.id, analysed_at=item.analysed_at).update(
                embedding=embeddings.to_bytes(vector), embedding_model=model, embedded_at=now
            )
    return stored


def library_reanalyse(*, user_id: int | None = None) -> int:
    """Queue a fresh analysis of every analysed item, waiting message or not; returns how many."""
    ids = list(_analysed(user_id).values_list("id", flat=True))
    for item_id in ids:
        analyse_item.delay(item_id)
    return len(ids)


def item_analyse_give_up(*, item_id: int, error: Exception) -> None:
    """The analysis task gave up (retries ran out on a transient provider error, or anything else
    stopped it): the item is stored as failed with the reason instead of staying pending."""
    if isinstance(error, UnexpectedStepError):
        # Not a provider's error: name what the analysis raised.
        message = f"The analysis stopped unexpectedly ({type(error.__cause__ or error).__name__})."
    elif isinstance(error, TransientProviderError):
        message = f"The analysis provider kept failing: {error}"
    else:
        message = f"The analysis stopped unexpectedly ({type(error).__name__})."
    item_analyse_failed(item_id=item_id, message=message)
