"""The library items a user may see or change, and figures about them for operators.

An item belongs to a project (a photo, an image of a trained model) or, an image of the base
model, to no project: the first are the members' (projects.access decides, by role), the second
are their maker's alone. A member removed from a project no longer sees its items, those they
made there included."""

from datetime import date, datetime

from django.db.models import Count, F, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from generation.selectors import image_url
from library.models import LibraryItem
from library.visibility import items_scope
from projects.access import Can, require
from projects.selectors import photo_url


def item_require(*, user: User, item: LibraryItem, capability: Can) -> None:
    """403 when the user's role in the item's project lacks `capability` (404 for a non-member)."""
    if item.project_id is not None:
        require(user=user, project=item.project_id, capability=capability)


def editable_item_ids(*, user: User, item_ids) -> set[int]:
    """Those of these items the user may change (describe, trash, put in albums, share)."""
    return set(
        LibraryItem.objects.filter(items_scope(user=user, capability=Can.EDIT), id__in=list(item_ids)).values_list(
            "id", flat=True
        )
    )


def item_list_for_user(
    *,
    user: User,
    project_id: int | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    favourites: bool = False,
) -> QuerySet[LibraryItem]:
    """The library items the user may see (none in the trash) with what their pages need, filtered."""
    items = LibraryItem.objects.filter(items_scope(user=user)).outside_trash()
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


def item_get_for_user(*, user: User, item_id: int, capability: Can = Can.VIEW) -> LibraryItem:
    """An item the user may see, or 404; 403 when their role in its project lacks `capability`."""
    item = get_object_or_404(
        LibraryItem.objects.filter(items_scope(user=user))
        .outside_trash()
        .select_related(
            "photo__project", "generated_image__generation__training_run", "generated_image__generation__project"
        ),
        id=item_id,
    )
    if capability != Can.VIEW:
        item_require(user=user, item=item, capability=capability)
    return item


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
