"""Exact and near duplicates among the user's items, and "keep the best" of a group."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import Refusal
from generation import services as generation_services
from library.models import LibraryItem
from library.selectors.duplicates import best_first, duplicate_groups
from library.visibility import items_scope
from projects import services as project_services
from projects.access import Can


class DuplicateError(Refusal):
    """A keep-the-best request we refuse, with a message for the user."""

    code = "invalid"
    status_code = 400


def _trash_source(item: LibraryItem, *, actor: User) -> None:
    """Move the photo or generated image to the trash; its library item leaves the library with it."""
    if item.photo is not None:
        project_services.photo_trash(photo=item.photo, actor=actor)
    elif item.generated_image is not None:
        generation_services.image_trash(image=item.generated_image, actor=actor)


def duplicates_keep_best(*, user: User, item_ids: Iterable) -> list[int]:
    """Keep the best of a group of duplicates and move the others' photos or images to the trash.

    The ids must still be duplicates of one another (all in one current group); in a near group
    the byte-identical copies of each trashed file go too. Returns the trashed items' ids.
    """
    try:
        ids = {int(item_id) for item_id in item_ids}
    except (TypeError, ValueError) as error:
        raise DuplicateError(_("Items are given by their numeric ids.")) from error
    if len(ids) < 2:
        raise DuplicateError(_("Pick a group of at least two duplicates."))
    # Trashing needs EDIT on each item's project: a viewer's pick is refused (403), and the groups
    # acted on are made of editable items only, so no copy of another project's goes with them.
    visible = LibraryItem.objects.filter(items_scope(user=user), id__in=ids)
    if visible.exclude(items_scope(user=user, capability=Can.EDIT)).exists():
        raise PermissionDenied
    found = duplicate_groups(user=user, capability=Can.EDIT)
    for group in [*found.exact, *found.near]:
        members = {item.id: item for item in group.items}
        if ids <= set(members):
            chosen = sorted((members[item_id] for item_id in ids), key=best_first)
            doomed = [copy for item in chosen[1:] for copy in [item, *group.copies.get(item.id, [])]]
            with transaction.atomic():
                for item in doomed:
                    _trash_source(item, actor=user)
            return [item.id for item in doomed]
    raise DuplicateError(_("These are no longer duplicates of one another; look at the list again."))
