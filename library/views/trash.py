"""The trash page: restore, or delete for good, one thing or everything."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from library import selectors
from library.services import trash as services
from library.views.items import PAGE_SIZE


@login_required
@require_safe
def trash(request):
    page = Paginator(selectors.trash_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "library/trash.html", {"page": page})


@login_required
@require_POST
def trash_restore(request, kind, photo_id=None, image_id=None):
    source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
    name = selectors.trash_entry(source=source).name
    services.trash_restore(source=source, actor=request.user)
    messages.success(request, _("“%(name)s” restored: it is back where it was.") % {"name": name})
    return redirect("library:trash")


@login_required
@require_http_methods(["GET", "POST"])
def trash_delete(request, kind, photo_id=None, image_id=None):
    """Delete one thing in the trash for good, after a confirmation page (GET shows it)."""
    source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
    if request.method == "POST":
        services.trash_delete_permanently(source=source, actor=request.user)
        messages.success(request, _("Deleted for good, with its stored files."))
        return redirect("library:trash")
    return render(request, "library/trash_confirm.html", {"entry": selectors.trash_entry(source=source), "count": 1})


@login_required
@require_http_methods(["GET", "POST"])
def trash_empty(request):
    """Delete everything in the trash for good, after a confirmation page (GET shows it)."""
    if request.method == "POST":
        deleted = services.trash_empty(user=request.user)
        messages.success(
            request,
            ngettext(
                "Trash emptied: %(count)s item deleted for good.",
                "Trash emptied: %(count)s items deleted for good.",
                deleted,
            )
            % {"count": deleted},
        )
        return redirect("library:trash")
    count = selectors.trash_count_for_user(user=request.user)
    return render(request, "library/trash_confirm.html", {"entry": None, "count": count})
