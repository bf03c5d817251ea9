"""A user's generated images: favourites, the trash, and deleting them with their files."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from core.exceptions import Refusal
from core.storage import storage_delete_files
from generation.models import GeneratedImage
from generation.selectors import jobs_scope
from projects.access import Can
from projects.events import event_record
from projects.models import ProjectEvent


class ImageGone(Refusal):
    """The image was deleted for good (purged) before it could be restored."""

    # As the API has always answered a refused restore: a 400 of a request that is not valid.
    code = "invalid"
    status_code = 400


def image_set_favourite(*, image: GeneratedImage, favourite: bool) -> GeneratedImage:
    GeneratedImage.objects.filter(id=image.id).update(favourite=favourite)
    image.favourite = favourite
    return image


def _record_deleted(*, images: Iterable[tuple[int, int | None]], actor: User | None, **subject) -> None:
    """One IMAGE_DELETED event per project among these (image id, project id) pairs; an image of
    the base model belongs to no project and is in no project's feed."""
    by_project: dict[int, list[int]] = {}
    for image_id, project_id in images:
        if project_id is not None:
            by_project.setdefault(project_id, []).append(image_id)
    for project_id, ids in by_project.items():
        event_record(
            project_id=project_id, kind=ProjectEvent.Kind.IMAGE_DELETED, actor=actor, images=sorted(ids), **subject
        )


def images_trash(*, user: User, image_ids: list[int], actor: User | None = None) -> int:
    """Move the images among these ids that the user may delete (those of projects where they may
    edit, and their own of the base model) to the trash (their files are kept, restorable until
    purged). Returns how many images moved: images only, never the rows that hang off them.
    `actor`: who did it, by default the user."""
    editable = jobs_scope(user=user, capability=Can.EDIT, prefix="generation__")
    with transaction.atomic():
        images = list(
            GeneratedImage.objects.select_for_update()
            .filter(editable, id__in=image_ids, trashed_at__isnull=True)
            .values_list("id", "generation__project_id")
        )
        if not images:
            return 0
        moved = GeneratedImage.objects.filter(
            id__in=[image_id for image_id, _ in images], trashed_at__isnull=True
        ).update(trashed_at=timezone.now())
        _record_deleted(images=images, actor=actor or user)
    return moved


def image_trash(*, image: GeneratedImage, actor: User | None = None) -> None:
    """Move one image to the trash; the caller checked who may (generation.selectors.image_get_for_user)."""
    with transaction.atomic():
        moved = GeneratedImage.objects.filter(id=image.id, trashed_at__isnull=True).update(trashed_at=timezone.now())
        if moved:
            _record_deleted(images=[(image.id, image.generation.project_id)], actor=actor)
    image.refresh_from_db(fields=["trashed_at"])


def image_restore(*, image: GeneratedImage, actor: User | None = None) -> GeneratedImage:
    """Take the image out of the trash: it is back in the gallery, its job and the library as it was."""
    with transaction.atomic():
        if GeneratedImage.objects.filter(id=image.id, trashed_at__isnull=False).update(trashed_at=None):
            project_id = GeneratedImage.objects.filter(id=image.id).values_list("generation__project_id", flat=True)[0]
            if project_id is not None:
                # Back in the gallery as if new: live pages show it again (the feed does not list it).
                event_record(
                    project_id=project_id,
                    kind=ProjectEvent.Kind.IMAGE_CREATED,
                    actor=actor,
                    generation=image.generation_id,
                    image=image.id,
                    restored=True,
                )
        elif not GeneratedImage.objects.filter(id=image.id).exists():
            raise ImageGone(gettext("This image was deleted for good; it can no longer be restored."))
    image.trashed_at = None
    return image


def image_delete(*, image: GeneratedImage, actor: User | None = None) -> None:
    """Delete the image and, once that is committed, its stored files: for good, no trash."""
    names = image.file_names()
    image_id = image.id
    with transaction.atomic():
        project_id = GeneratedImage.objects.filter(id=image_id).values_list("generation__project_id", flat=True).first()
        deleted, _ = image.delete()
        if deleted:
            _record_deleted(
                images=[(image_id, project_id)], actor=actor, permanent=True, trashed=image.trashed_at is not None
            )
        storage_delete_files(names=names)


def images_delete(*, user: User, image_ids: list[int], trashed: bool | None = None, actor: User | None = None) -> int:
    """Delete the images among these ids that the user may delete, and their files, for good.
    `trashed=True`: only those (still) in the trash. Returns how many images went. `actor`: who
    did it, by default the user."""
    editable = jobs_scope(user=user, capability=Can.EDIT, prefix="generation__")
    with transaction.atomic():
        images = GeneratedImage.objects.select_for_update().filter(editable, id__in=image_ids)
        if trashed is not None:
            images = images.filter(trashed_at__isnull=not trashed)
        found = list(images)
        if found:
            projects = GeneratedImage.objects.filter(id__in=[image.id for image in found]).values_list(
                "id", "generation__project_id"
            )
            _record_deleted(images=list(projects), actor=actor or user, permanent=True, trashed=trashed is True)
        GeneratedImage.objects.filter(id__in=[image.id for image in found]).delete()
        storage_delete_files(names=[name for image in found for name in image.file_names()])
    return len(found)


def images_purge_trashed(*, batch_size: int = 500) -> int:
    """Delete, with their stored files, the images trashed more than TRASH_RETENTION_DAYS ago.

    In batches, each its own transaction; safe to run again or concurrently (an image already gone
    is skipped, one restored meanwhile is kept). Returns how many went.
    """
    cutoff = timezone.now() - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            # Locked, so a restore racing the purge either wins (the image stays, files and all)
            # or finds the image gone; never a restored image without its files.
            batch = list(
                GeneratedImage.objects.select_for_update()
                .filter(trashed_at__lt=cutoff)
                .order_by("trashed_at", "id")[:batch_size]
            )
            GeneratedImage.objects.filter(id__in=[image.id for image in batch]).delete()
            storage_delete_files(names=[name for image in batch for name in image.file_names()])
        purged += len(batch)
        if len(batch) < batch_size:
            return purged
