"""Duplicates: exact and near copies among the user's items, and keeping the best of a group."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from core.middleware import refusals_redirect_to
from library.selectors import duplicates as selectors
from library.services import duplicates as services
from library.views.albums import ids_from
from library.views.items import tile


def _duplicate_entry(group) -> dict:
    copies = {item.id: len(group.copies.get(item.id, [])) for item in group.items}
    return {
        "tiles": [
            {
                **tile(item),
                "best": item == group.best,
                "copies": copies[item.id],
                "size": "×".join(map(str, selectors.item_source_size(item))),
            }
            for item in group.items
        ],
        # What "keep the best" moves to the trash: the others and, in a near group, their identical copies.
        "deletes": sum(1 + copies[item.id] for item in group.items[1:]),
    }


@login_required
@require_safe
def duplicates(request):
    found = selectors.duplicate_groups(user=request.user)
    context = {
        "exact": [_duplicate_entry(group) for group in found.exact],
        "near": [_duplicate_entry(group) for group in found.near],
    }
    return render(request, "library/duplicates.html", context)


@login_required
@require_POST
@refusals_redirect_to("library:duplicates")
def duplicates_keep_best(request):
    trashed = services.duplicates_keep_best(user=request.user, item_ids=ids_from(request.POST.getlist("items")))
    messages.success(request, _kept_the_best(len(trashed)))
    return redirect("library:duplicates")


def _kept_the_best(count: int) -> str:
    days = settings.TRASH_RETENTION_DAYS
    # Two numbers, two plurals: the days are a phrase of their own, put into the sentence.
    within = ngettext("within %(days)s day", "within %(days)s days", days) % {"days": days}
    return ngettext(
        "Kept the best; %(count)s copy moved to trash — restore it from Trash %(within)s.",
        "Kept the best; %(count)s copies moved to trash — restore them from Trash %(within)s.",
        count,
    ) % {"count": count, "within": within}
