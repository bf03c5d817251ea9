"""The trash as the trash page and the API show it: photos and generated images, newest first."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from generation import selectors as generation_selectors
from generation.models import GeneratedImage
from projects import selectors as project_selectors
from projects.access import Can
from projects.models import Photo

TRASH_KINDS = ("photos", "images")


@dataclass(frozen=True)
class TrashEntry:
    """A photo or generated image in the trash, as the trash page and the API show it."""

    kind: str  # one of TRASH_KINDS
    source: Photo | GeneratedImage
    name: str
    where: str
    trashed_at: datetime
    purge_at: datetime

    @property
    def id(self) -> int:
        return self.source.id

    @property
    def thumbnail_url(self) -> str:
        """Made when shown, so a long trash signs URLs only for the page on screen."""
        if isinstance(self.source, Photo):
            return project_selectors.photo_url(photo=self.source, variant="thumbnail")
        return generation_selectors.image_url(image=self.source, variant="thumbnail")

    @property
    def restore_url(self) -> str:
        return reverse(f"library:trash_restore_{self.kind}", args=[self.id])

    @property
    def delete_url(self) -> str:
        """The confirmation page (GET) of "delete permanently now", and its POST."""
        return reverse(f"library:trash_delete_{self.kind}", args=[self.id])

    @property
    def days_left(self) -> int:
        """Days (started) until the periodic purge deletes it for good: 30 just after it was
        trashed, 1 on its last day, 0 once it is due."""
        return max(0, math.ceil((self.purge_at - timezone.now()).total_seconds() / 86400))


def trash_purge_at(*, trashed_at: datetime) -> datetime:
    return trashed_at + timedelta(days=settings.TRASH_RETENTION_DAYS)


def trash_entry(*, source: Photo | GeneratedImage) -> TrashEntry:
    """How the trash shows one photo (with its project) or generated image (with its job)."""
    if isinstance(source, Photo):
        kind, name = "photos", source.original_filename
        where = gettext("Photo in “%(project)s”") % {"project": source.project.name}
    else:
        kind = "images"
        name = gettext("Image %(number)s of generation #%(generation)s") % {
            "number": source.index + 1,
            "generation": source.generation_id,
        }
        where = gettext("Generated from “%(prompt)s”") % {"prompt": source.generation.prompt_as_typed[:80]}
    assert source.trashed_at is not None, "only what is in the trash has an entry"
    return TrashEntry(
        kind=kind,
        source=source,
        name=name,
        where=where,
        trashed_at=source.trashed_at,
        purge_at=trash_purge_at(trashed_at=source.trashed_at),
    )


def trash_for_user(*, user: User) -> list[TrashEntry]:
    """The user's photos and generated images in the trash, most recently trashed first."""
    sources: list[Photo | GeneratedImage] = [
        *project_selectors.photo_trash_for_user(user=user),
        *generation_selectors.image_trash_for_user(user=user),
    ]
    entries = [trash_entry(source=source) for source in sources]
    return sorted(entries, key=lambda entry: (entry.trashed_at, entry.kind, entry.id), reverse=True)


def trash_count_for_user(*, user: User) -> int:
    return (
        project_selectors.photo_trash_for_user(user=user).count()
        + generation_selectors.image_trash_for_user(user=user).count()
    )


def trash_get_for_user(*, user: User, kind: str, object_id: int) -> Photo | GeneratedImage:
    """One photo or image in the trash that the user may restore or delete (EDIT on its project), or 404."""
    if kind == "photos":
        return project_selectors.photo_get_for_user(user=user, photo_id=object_id, trashed=True, capability=Can.EDIT)
    if kind == "images":
        return generation_selectors.image_get_for_user(user=user, image_id=object_id, trashed=True, capability=Can.EDIT)
    raise Http404
