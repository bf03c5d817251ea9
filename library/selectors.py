from datetime import date

from django.shortcuts import get_object_or_404

from accounts.models import User
from library.models import LibraryItem


def item_list_for_user(
    *,
    user: User,
    project_id: int | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    favourites: bool = False,
):
    """The user's library items with what their pages need, filtered."""
    items = LibraryItem.objects.filter(user=user)
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
    return items.select_related("photo", "generated_image__generation", "project").defer("embedding")


def item_get_for_user(*, user: User, item_id: int) -> LibraryItem:
    return get_object_or_404(
        LibraryItem.objects.select_related(
            "photo__project", "generated_image__generation__training_run", "generated_image__generation__project"
        ),
        user=user,
        id=item_id,
    )


def item_thumbnail_url(*, item: LibraryItem) -> str:
    from generation.selectors import image_url
    from projects.selectors import photo_url

    if item.kind == LibraryItem.Kind.PHOTO:
        return photo_url(photo=item.photo, variant="thumbnail")
    return image_url(image=item.generated_image, variant="thumbnail")


def item_full_url(*, item: LibraryItem) -> str:
    from generation.selectors import image_url
    from projects.selectors import photo_url

    if item.kind == LibraryItem.Kind.PHOTO:
        return photo_url(photo=item.photo, variant="training")
    return image_url(image=item.generated_image, variant="file")
