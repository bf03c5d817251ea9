"""Describing an item (by the configured analysis backend) and embedding its words for search."""

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from core.exceptions import PermanentProviderError, TransientProviderError, UnexpectedStepError
from library import analysis, embeddings
from library.backends.base import AnalysisBackend, AnalysisFailed, Context
from library.models import LibraryItem
from library.tasks import analyse_item
from projects import faces as face_detection
from projects import services as project_services
from projects.models import Photo
from training.dataset import caption_for

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
    fields["embedding"] = embeddings.to_bytes(embeddings.embed_documents([_document(item)])[0])
    fields["embedding_model"] = embeddings.model_id()
    fields["embedded_at"] = timezone.now()
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


def library_reembed(*, user_id: int | None = None, batch_size: int = 64) -> int:
    """Embed every analysed item's words again (after a model change); returns how many."""
    embedded = 0
    batch: list[LibraryItem] = []
    for item in _analysed(user_id).defer("embedding").iterator(chunk_size=500):
        batch.append(item)
        if len(batch) == batch_size:
            embedded += _embed(batch)
            batch = []
    return embedded + _embed(batch)


def _document(item: LibraryItem) -> embeddings.Document:
    return embeddings.Document(text=item.search_text(), phrases=item.search_phrases())


def _embed(batch: list[LibraryItem]) -> int:
    if not batch:
        return 0
    vectors = embeddings.embed_documents([_document(item) for item in batch])
    model = embeddings.model_id()
    now = timezone.now()
    for item, vector in zip(batch, vectors, strict=True):
        LibraryItem.objects.filter(id=item.id).update(
            embedding=embeddings.to_bytes(vector), embedding_model=model, embedded_at=now
        )
    return len(batch)


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
