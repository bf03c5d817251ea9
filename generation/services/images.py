"""A user's generated images: favourites, the trash, and deleting them with their files."""

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


class ImageGone(Refusal):
    """The image was deleted for good (purged) before it could be restored."""

    # As the API has always answered a refused restore: a 400 of a request that is not valid.
    code = "invalid"
    status_code = 400


def image_set_favourite(*, image: GeneratedImage, favourite: bool) -> GeneratedImage:
    GeneratedImage.objects.filter(id=image.id).update(favourite=favourite)
    image.favourite = favourite
    return image


def images_trash(*, user: User, image_ids: list[int]) -> int:
    """Move the images among these ids that the user may delete (those of projects where they may
    edit, and their own of the base model) to the trash (their files are kept, restorable until
    purged). Returns how many images moved: images only, never the rows that hang off them."""
    editable = jobs_scope(user=user, capability=Can.EDIT, prefix="generation__")
    return GeneratedImage.objects.filter(editable, id__in=image_ids, trashed_at__isnull=True).update(
        trashed_at=timezone.now()
    )


def image_trash(*, image: GeneratedImage) -> None:
    """Move one image to the trash; the caller checked who may (generation.selectors.image_get_for_user)."""
    GeneratedImage.objects.filter(id=image.id, trashed_at__isnull=True).update(trashed_at=timezone.now())
    image.refresh_from_db(fields=["trashed_at"])


def image_restore(*, image: GeneratedImage) -> GeneratedImage:
    """Take the image out of the trash: it is back in the gallery, its job and the library as it was."""
    if not GeneratedImage.objects.filter(id=image.id).update(trashed_at=None):
        raise ImageGone(gettext("This image was deleted for good; it can no longer be restored."))
    image.trashed_at = None
    return image


def image_delete(*, image: GeneratedImage) -> None:
    """Delete the image and, once that is committed, its stored files: for good, no trash."""
    names = image.file_names()
    with transaction.atomic():
        image.delete()
        storage_delete_files(names=names)


def images_delete(*, user: User, image_ids: list[int], trashed: bool | None = None) -> int:
    """Delete the images among these ids that the user may delete, and their files, for good.
    `trashed=True`: only those (still) in the trash. Returns how many images went."""
    editable = jobs_scope(user=user, capability=Can.EDIT, prefix="generation__")
    with transaction.atomic():
        images = GeneratedImage.objects.select_for_update().filter(editable, id__in=image_ids)
        if trashed is not None:
            images = images.filter(trashed_at__isnull=not trashed)
        found = list(images)
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
