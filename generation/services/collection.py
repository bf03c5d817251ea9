"""Storing a job's images: downloading the provider's outputs (or making them, on a synchronous
provider), each stored once with its thumbnail, and announced to the apps above."""

import io
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import OutputGone, OutputUnusable, PermanentProviderError
from core.formats import extension_for
from generation.backends.base import UNREADABLE_OUTPUT, GenerationBackend
from generation.models import GeneratedImage, Generation
from generation.providers import backend_for
from generation.selectors import generation_stored_indexes
from generation.services.jobs import generation_fail_with, generation_finish, generation_give_up_step
from generation.signals import image_stored
from projects.events import event_record
from projects.models import ProjectEvent

THUMBNAIL_LONG_SIDE = 512
# The formats an output may come in: those a job can ask for (its file keeps the provider's format).
STORED_FORMATS = frozenset(Generation.OutputFormat.values)


class ImageRejected(Exception):
    """An output is not an image we store; the message says why (it goes into the job's note)."""


def image_store(*, generation: Generation, index: int, content: bytes, seed: int) -> bool:
    """Store one output; False if it was stored already (by an earlier or concurrent attempt)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image_format = extension_for(image.format, default="")
            if image_format not in STORED_FORMATS:
                raise ImageRejected(f"unsupported image format {image.format}")
            image.load()
            width, height = image.size
            thumbnail = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ImageRejected(f"output {index + 1} is not a usable image ({exc})") from exc
    thumbnail.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)
    thumb_buffer = io.BytesIO()
    thumbnail.save(thumb_buffer, "WEBP", quality=80)

    folder = f"users/{generation.user_id}/generations/{generation.id}"
    key = secrets.token_hex(8)
    file_name = default_storage.save(f"{folder}/{index}-{key}.{image_format}", ContentFile(content))
    thumb_name = default_storage.save(f"{folder}/{index}-{key}-thumb.webp", ContentFile(thumb_buffer.getvalue()))
    try:
        with transaction.atomic():
            stored = GeneratedImage.objects.create(
                generation=generation,
                index=index,
                file=file_name,
                thumbnail=thumb_name,
                width=width,
                height=height,
                seed=seed,
                format=image_format,
                bytes=len(content),
            )
            if generation.project_id is not None:
                event_record(
                    project_id=generation.project_id,
                    kind=ProjectEvent.Kind.IMAGE_CREATED,
                    generation=generation.id,
                    image=stored.id,
                )
    except IntegrityError:
        default_storage.delete(file_name)
        default_storage.delete(thumb_name)
        return False
    transaction.on_commit(lambda: image_stored.send(sender=GeneratedImage, image_id=stored.id))
    return True


def generation_collect(*, generation_id: int) -> None:
    """Download the provider's outputs and store each one once. Safe to run twice; each run is one
    try of the step, within its attempt budget."""
    claimed = Generation.objects.filter(id=generation_id, status=Generation.Status.RUNNING).exclude(output_urls=[])
    if not claimed.update(attempts=F("attempts") + 1):
        return
    generation = Generation.objects.select_related("project").get(id=generation_id)
    if generation.attempts > settings.GENERATION_STEP_ATTEMPTS:
        generation_give_up_step(generation=generation)
        return
    backend = backend_for(generation.backend)
    stored = generation_stored_indexes(generation_id=generation.id)
    problems = []
    for index, url in enumerate(generation.output_urls):
        if index in stored:
            continue
        try:
            if url.startswith(UNREADABLE_OUTPUT):
                raise OutputUnusable(f"output {index + 1} is not an image address")
            content = backend.download(url=url, max_bytes=settings.GENERATION_MAX_IMAGE_BYTES)
            image_store(generation=generation, index=index, content=content, seed=generation.seed)
        except OutputGone:
            problems.append(f"image {index + 1} was deleted by the provider before we could fetch it")
        except (OutputUnusable, OSError, ImageRejected) as error:
            problems.append(str(error)[:200])
    generation_finish(generation=generation, billed_images=len(generation.output_urls), problems=problems)


def generation_render(*, generation: Generation, backend: GenerationBackend) -> None:
    """Make and store the images on a synchronous provider (one call per image, each billed)."""
    problems = []
    stored_before = generation_stored_indexes(generation_id=generation.id)
    made = len(stored_before)  # count the ones the provider made: each is billed
    try:
        for index, rendered in backend.render(generation=generation, skip=stored_before):
            made += 1
            if not Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).exists():
                return  # canceled meanwhile
            try:
                image_store(generation=generation, index=index, content=rendered.content, seed=rendered.seed)
            except ImageRejected as error:
                problems.append(str(error))
    except PermanentProviderError as error:
        if not generation_stored_indexes(generation_id=generation.id):
            generation_fail_with(generation_id=generation.id, kind=error.kind, detail=str(error))
            return
        problems.append(str(error))
    generation_finish(generation=generation, billed_images=made, problems=problems)
