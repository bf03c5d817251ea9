"""The user's library items, and figures about them for operators."""

from datetime import date, datetime

from django.db.models import Count, F, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from generation.selectors import image_url
from library.models import LibraryItem
from projects.selectors import photo_url


def item_list_for_user(
    *,
    user: User,
    project_id: int | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    favourites: bool = False,
) -> QuerySet[LibraryItem]:
    """The user's library items (none in the trash) with what their pages need, filtered."""
    items = LibraryItem.objects.filter(user=user).outside_trash()
    if project_id:
        items = items.filter(project_id=project_id)
    if kind in LibraryItem.Kind.values:
        items = items.filter(kind=kind)
    if since:
        items = items.filter(created_at__date__gte=since)
    if until:
        items = items.filter(created_at__date__lte=until)
    if favourites:
        items = items.filter(generated_image__favourite=True)
    # Tiles need the source's thumbnail, duplicates its size and the project's name; nothing of the
    # generation, whose wide row would be read for every item.
    return items.select_related("photo", "generated_image", "project").defer("embedding")


def item_get_for_user(*, user: User, item_id: int) -> LibraryItem:
    return get_object_or_404(
        LibraryItem.objects.outside_trash().select_related(
            "photo__project", "generated_image__generation__training_run", "generated_image__generation__project"
        ),
        user=user,
        id=item_id,
    )


def item_thumbnail_url(*, item: LibraryItem) -> str:
    if item.kind == LibraryItem.Kind.PHOTO and item.photo is not None:
        return photo_url(photo=item.photo, variant="thumbnail")
    if item.generated_image is not None:
        return image_url(image=item.generated_image, variant="thumbnail")
    return ""


def item_full_url(*, item: LibraryItem) -> str:
    if item.kind == LibraryItem.Kind.PHOTO and item.photo is not None:
        return photo_url(photo=item.photo, variant="training")
    if item.generated_image is not None:
        return image_url(image=item.generated_image, variant="file")
    return ""


def item_status_counts() -> dict[str, int]:
    """Library items of every user per analysis status (operators)."""
    rows = LibraryItem.objects.order_by().values_list("status").annotate(count=Count("id"))
    return dict(rows)


def items_stuck(*, since: datetime) -> QuerySet[LibraryItem]:
    """Items still waiting for analysis since before `since`, oldest first: what library_reconcile
    re-queues (operators)."""
    return (
        LibraryItem.objects.filter(status=LibraryItem.Status.PENDING, created_at__lt=since)
        .annotate(stuck_since=F("created_at"))
        .defer("embedding")
        .order_by("created_at", "id")
    )
