"""Duplicates: exact and near copies among the user's items, and keeping the best of a group."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.middleware import refusals_redirect_to
from core.trash import moved_to_trash
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
    messages.success(request, "Kept the best; " + moved_to_trash(count=len(trashed), singular="copy", plural="copies"))
    return redirect("library:duplicates")
