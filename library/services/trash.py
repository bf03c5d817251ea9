"""The trash of photos and generated images, in one place for the trash page and the API.

Photos and generated images are trashed, restored and purged by their own apps; this offers both.
"""

from accounts.models import User
from core.exceptions import Refusal
from generation import selectors as generation_selectors
from generation import services as generation_services
from generation.models import GeneratedImage
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Photo


class TrashError(Refusal):
    """A restore or deletion we refuse, with a message for the user."""

    code = "invalid"
    status_code = 400


def trash_restore(*, source: Photo | GeneratedImage, actor: User | None = None) -> None:
    """Take a photo or generated image out of the trash (a photo only while its project has room)."""
    try:
        if isinstance(source, Photo):
            project_services.photo_restore(photo=source, actor=actor)
        else:
            generation_services.image_restore(image=source, actor=actor)
    except (project_services.ProjectError, generation_services.ImageGone) as refusal:
        raise TrashError(str(refusal)) from refusal


def trash_delete_permanently(*, source: Photo | GeneratedImage, actor: User | None = None) -> None:
    """Delete a photo or generated image in the trash, and its stored files, for good now."""
    if isinstance(source, Photo):
        try:
            project_services.photo_delete(photo=source, actor=actor)
        except Photo.DoesNotExist:
            pass  # gone already (purged, or a second click): what was asked for
    else:
        generation_services.image_delete(image=source, actor=actor)


def trash_empty(*, user: User, batch_size: int = 200) -> int:
    """Delete everything in the user's trash (as the trash page shows it: the photos and images of the
    projects where they may edit, and their own), and the stored files, for good. Returns how many went."""
    deleted = 0
    while True:
        # Every trashed photo the user may delete: those of each project where they may edit.
        photos = list(project_selectors.photo_trash_for_user(user=user).order_by("id")[:batch_size])
        for photo in photos:
            trash_delete_permanently(source=photo, actor=user)
        image_ids = list(generation_selectors.image_trash_for_user(user=user).values_list("id", flat=True)[:batch_size])
        deleted += len(photos) + generation_services.images_delete(user=user, image_ids=image_ids, trashed=True)
        if len(photos) < batch_size and len(image_ids) < batch_size:
            break
    return deleted
