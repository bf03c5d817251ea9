"""Putting photos and generated images in their owner's library, and queueing their analysis."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from generation.models import GeneratedImage
from library.models import LibraryItem
from library.tasks import analyse_item
from projects.models import Photo


def item_request_analysis(*, item_id: int) -> bool:
    """Queue the item's analysis unless a message for it is already waiting; True if one was sent.

    The waiting message reads the item when a worker starts it, so it covers every change made
    before then. One lost with the broker is re-sent once REDRIVE_AFTER_SECONDS have passed.
    """
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
    item_request_analysis(item_id=item.id)
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
        item_request_analysis(item_id=item.id)
    return item


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


def library_add_missing(*, user_id: int | None = None) -> int:
    """Give every processed photo and generated image that has no library item one (and its analysis)."""
    photos = Photo.objects.filter(status=Photo.Status.READY, library_item__isnull=True)
    images = GeneratedImage.objects.filter(library_item__isnull=True)
    if user_id:
        photos = photos.filter(project__owner_id=user_id)
        images = images.filter(generation__user_id=user_id)
    added = 0
    for photo_id in photos.values_list("id", flat=True).iterator():
        added += item_add_photo(photo_id=photo_id) is not None
    for image_id in images.values_list("id", flat=True).iterator():
        added += item_add_generated(image_id=image_id) is not None
    return added
